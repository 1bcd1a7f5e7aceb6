"""Benchmarks: scripts that print figures (`make bench-search`, `make bench-bookings`).

Not tests: nothing here is collected by pytest. See docs/benchmarks.md.
"""
