"""Reusable widgets, one a file; none of them does network I/O."""
