"""The HTTP edge every entrypoint shares: errors, client address, limits, logs, readiness."""
