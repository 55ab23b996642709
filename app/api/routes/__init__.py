"""Routers, one per resource; each stays thin and calls a domain module."""
