"""Benchmarks, not tests: run them with the Soda virtualenv (see gate_bench.py)."""
