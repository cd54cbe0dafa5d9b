pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.aws",
    "tests.fixtures.redis",
]
