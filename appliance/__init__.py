"""EVSE appliance: pilot process, drivers, simulated HAT, supervisor and web UI."""

__version__ = "0.1.0"
