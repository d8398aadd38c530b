"""Hardware drivers: real code against pigpio, sysfs PWM, spidev and gpiozero.

Drivers know the chips and buses, nothing of charging policy. The simulated HAT plugs in
underneath them (a spidev-compatible bus, a pigpio-compatible PWM, a gpiozero pin factory),
so the same driver code runs on the Pi and in every test.
"""
