"""One module per area of the REST API, all mounted under /api/v1."""
