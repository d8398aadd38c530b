"""Analog simulation of the HAT with ngspice: decks from the netlist, cases, results."""
