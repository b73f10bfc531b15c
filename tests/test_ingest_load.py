"""Many open ingest connections on one server process (a short, bounded version of
`python -m bench.flood --load 1000`): every page's batches are acked, none starved, and the
server's memory stays bounded."""

from __future__ import annotations

import pytest

from bench.flood import open_pages, quantile, rss_mb
from tests.conftest import APP_ORIGIN, TRACKED_CONFIG
from tests.live_server import LiveSite

pytestmark = pytest.mark.slow

PAGES = 400
SECONDS = 12.0


@pytest.fixture
def site(tmp_path):
    env = {"DATALAB_INGEST_CONNECTIONS_PER_ADDRESS": str(PAGES + 10)}
    site = LiveSite(tmp_path, origin=APP_ORIGIN, config=TRACKED_CONFIG, env=env)
    site.start()
    yield site
    site.stop()


async def test_hundreds_of_open_pages_get_their_acks_quickly_in_bounded_memory(site):
    url = f"{site.ws_url}/ws/ingest?token={site.token}"
    before = rss_mb(site.process.pid)

    latencies = await open_pages(url, APP_ORIGIN, PAGES, SECONDS)

    assert len(latencies) >= PAGES * 4  # every page kept sending (a batch every 2 s)
    # No page starved: a bound that holds on a busy CI machine; the p99 figure against the
    # issue's 250 ms is `python -m bench.flood --load 1000`'s (docs/benchmarks.md).
    assert quantile(latencies, 0.99) < 1000.0, quantile(latencies, 0.99)
    assert rss_mb(site.process.pid) - before < 100.0
