"""The pilot process: the real-time loop that alone touches the HAT and enforces every interlock."""
