"""The appliance as a system: service start-up, first-boot settings and over-the-air updates."""
