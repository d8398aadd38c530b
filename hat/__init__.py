"""The EVSE HAT hardware design as code: circuit, generated documents and analog simulations.

Everything here is derived from `hat/board.toml`, the board description the software reads
too, so hardware and software cannot drift apart silently. Regenerate with
`python -m hat.build`.
"""
