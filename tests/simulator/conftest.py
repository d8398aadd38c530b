"""Simulated-bus fixtures (clock, SPI bus, pigpio, pins) for the tests in this folder."""

from tests.bus_fixtures import bus, clock, outputs, pi, pins, pwm_events  # noqa: F401
