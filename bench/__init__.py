"""Benchmarks: each script prints ratios measured in one run (README: Benchmarks)."""
