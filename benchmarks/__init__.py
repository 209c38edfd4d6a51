"""Benchmark suites, the scripts that regenerate published tables, and their results."""
