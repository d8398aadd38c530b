"""Building the SD-card image: the customisation, the disk layout and the build command."""
