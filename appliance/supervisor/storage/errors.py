"""Errors the storage raises besides ValueError (bad input)."""

from __future__ import annotations


class NotFound(LookupError):
    """The id names no row (an API maps this to 404)."""
