"""Benchmarks of Emanet's hot paths, run with `python -m bench.runner` (never by pytest)."""
