"""Benchmarks and the real-browser helpers the tests share."""
