"""Benchmarks: retrieval quality, gap detection and speed on public data sets, printed and written as JSON."""
