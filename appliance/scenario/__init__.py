"""Scenario files (TOML) that drive the simulator, and the runner that plays them."""
