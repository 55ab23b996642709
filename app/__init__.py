"""Deflect: the FAQ deflection search service."""
