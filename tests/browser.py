"""Real Chromium for the Python browser tests: Debian's /usr/bin/chromium driven by Playwright
(no browser download), and waiting for what a page makes happen."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
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


class Hellos:
    """Which of a browser page's snippet sockets received the server's hello.

    The snippet learns the selectors it tracks (the clicks of a funnel's stages, the watched
    elements) from the hello, so a click made before its page's hello is not attributed. A test
    that clicks a tracked element loads its page with `loading()`, as a visitor's first click
    comes later than a test's."""

    def __init__(self, page) -> None:
        self.page = page
        self.greeted: list[bool] = []  # per socket, in the order the pages opened them
        page.on("websocket", self._opened)

    def _opened(self, socket) -> None:
        index = len(self.greeted)
        self.greeted.append(False)

        def frame(payload: str | bytes) -> None:
            with contextlib.suppress(ValueError):
                message = json.loads(payload)
                if isinstance(message, dict) and message.get("type") == "hello":
                    self.greeted[index] = True

        socket.on("framereceived", frame)

    @contextlib.contextmanager
    def loading(self, timeout: float = 15.0) -> Iterator[None]:
        """Around what loads a page: waits until a socket opened since has its hello."""
        first = len(self.greeted)
        yield
        deadline = time.monotonic() + timeout
        while not any(self.greeted[first:]) and time.monotonic() < deadline:
            self.page.wait_for_timeout(20)  # lets Playwright deliver the page's events
        assert any(self.greeted[first:]), f"no hello on the page's socket in {timeout} s"
