"""Benchmarks for Les Billets: `python -m bench` (or `make bench`) runs them and writes bench/RESULTS.md.

Every scenario runs the server in its own process (`bench.launch`) and the clients in this one, each side by side
with a baseline measured in the same run. Nothing here is a test: no timing is ever asserted.
"""
