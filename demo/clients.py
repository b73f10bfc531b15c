"""Real User-Agent strings with a browser / OS / device mix close to a European SaaS site's,
parsed by ingest's own enrichment (`client_of`) so that generated events carry what ingest
would store for them."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.enrichment import client_of

# (User-Agent, weight, screen widths, languages)
USER_AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 24, (1920, 1536, 1366), ("en-US", "de-DE", "fr-FR")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 11, (1440, 1728, 2560), ("en-US", "en-GB")),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Safari/605.1.15", 7, (1440, 1512), ("en-US", "fr-FR")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", 6, (1920, 1280), ("en-US", "de-DE")),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
     5, (1920, 1600), ("de-DE", "en-US")),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
     2, (1920, 2560), ("en-US", "de-DE")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 2, (1920,), ("en-US",)),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0", 1, (1920,), ("pl-PL", "en-US")),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", 17, (390, 393, 430),
     ("en-US", "en-GB", "fr-FR")),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Mobile Safari/537.36", 14, (412, 360, 384), ("en-US", "es-ES", "de-DE")),
    ("Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36", 3, (384, 412), ("de-DE",)),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
     "(KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1", 2, (390,), ("en-US",)),
    ("Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
     1, (412,), ("de-DE",)),
    ("Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/18.1 Mobile/15E148 Safari/604.1", 3, (820, 1024), ("en-US", "fr-FR")),
    ("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/131.0.0.0 Safari/537.36", 1, (800,), ("es-ES",)),
]  # fmt: skip


@dataclass(frozen=True)
class Client:
    """What a visitor's browser makes ingest store: browser, OS and device class."""

    user_agent: str
    browser: str
    os: str
    device: str
    screens: tuple[int, ...]
    languages: tuple[str, ...]


def clients() -> tuple[list[Client], list[float]]:
    """The clients and their weights."""
    found, weights = [], []
    for user_agent, weight, screens, languages in USER_AGENTS:
        parsed = client_of(user_agent)
        found.append(
            Client(user_agent, parsed.browser, parsed.os, parsed.device, screens, languages)
        )
        weights.append(float(weight))
    return found, weights
