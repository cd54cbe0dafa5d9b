"""Prometheus: the process's metrics in one registry, and the small server scrapers read."""
