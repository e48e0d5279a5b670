"""Benchmarks: scripts that print measured figures and their ratios from one run."""
