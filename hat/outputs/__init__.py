"""Documents generated from the circuit and the board description."""
