"""Benchmarks (not tests): each module has a `run(...) -> dict` and a `python -m bench.<name>` entry
point. They measure against the real services of the environment, on data of their own."""
