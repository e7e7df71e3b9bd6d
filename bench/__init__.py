"""Benchmarks of the segmentation service: ``python -m bench.run`` (see bench/run.py)."""
