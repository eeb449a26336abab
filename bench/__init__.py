"""Benchmarks of Showdesk, run by hand against real services (speed lives here, not in tests)."""
