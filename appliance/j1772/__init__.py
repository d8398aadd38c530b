"""Pure IEC 61851-1 / SAE J1772 logic: no hardware, no I/O, no clocks of its own."""
