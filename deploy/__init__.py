"""Running Les Billets as an operator would: `make cluster` (cluster.py) and its HAProxy template; see README.md."""
