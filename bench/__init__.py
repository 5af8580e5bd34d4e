"""Benchmark scripts (run them directly: .venv/bin/python bench/<name>.py)."""
