"""Real Chromium for the Python browser tests: Debian's /usr/bin/chromium driven by Playwright
(no browser download), and waiting for what a page makes happen."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.services import required_service


def chromium_path() -> str:
    configured = os.environ.get("DATALAB_TEST_CHROMIUM")
    if configured:
        return configured
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return required_service("DATALAB_TEST_CHROMIUM", "Chromium")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    return predicate()
