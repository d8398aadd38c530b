"""The circuit: parts, blocks and their assembly into the HAT."""
