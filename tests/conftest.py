import os

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.aws",
    "tests.fixtures.redis",
]

# Apps built in tests serve no metrics unless the test names a port: test runs side by side
# would otherwise all reach for the default metrics port.
os.environ.setdefault("ATELIER_METRICS_PORT", "0")
