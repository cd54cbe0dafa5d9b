"""Fixtures of the deploy tests (helpers live in deploy_support.py)."""

from __future__ import annotations

import pytest
from deploy_support import TERRAFORM_DIR, Terraform


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    assert TERRAFORM_DIR.is_dir(), "deploy/terraform is missing"
    return Terraform(TERRAFORM_DIR)
