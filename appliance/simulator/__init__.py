"""The simulated HAT: the same buses the drivers use, with analog physics and cars behind them."""
