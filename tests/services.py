"""The real services a test needs, found through the environment `make test` sets up.

One rule, written once: a service that is not configured skips the test on a developer's
machine, and fails it under CI (`CI=true`), where every service must be there.
"""

from __future__ import annotations

import os

import pytest


def required_service(variable: str, what: str) -> str:
    value = os.environ.get(variable, "")
    if value:
        return value
    message = f"{what} is not available: set {variable} (`make test` does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def redis_url() -> str:
    """The test Redis (`DATALAB_TEST_REDIS_URL`), or skip / fail by the rule above."""
    return required_service("DATALAB_TEST_REDIS_URL", "Redis")
