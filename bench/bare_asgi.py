"""Bench only: the bare ingest consumer, the floor `bench.ingest_ws --bare-baseline` compares with.

    .venv/bin/python -m bench.bare_asgi --port P   (with the same environment as the server)

A Channels consumer on `/ws/ingest` under the same daphne server as `manage.py serve` (the same
`daphne_server` factory: frame size limit, access log) and the same Django settings: it accepts
every connection, sends a hello, parses each frame and acks the ids of its events, without
checking the token, validating, enriching or storing anything. What `manage.py serve` costs
above this is the price of the product's ingest path.

It is a separate ASGI module, never imported by `datalab.asgi`, rather than a route mounted when
a bench-only environment variable is set: the product's routing has no branch to misconfigure,
and a server started with `manage.py serve` cannot expose an unauthenticated endpoint.
"""

from __future__ import annotations

import argparse
import os

import orjson

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datalab.settings")

from django.core.asgi import get_asgi_application

get_asgi_application()  # django.setup(), as datalab.asgi does

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

HELLO = '{"type":"hello","config":{}}'


class BareConsumer(AsyncWebsocketConsumer):
    """Parse a batch, ack its ids: what any websocket ingest costs at the least."""

    channel_layer_alias = "bare needs no channel layer"

    async def dispatch(self, message):
        if message["type"] == "websocket.receive":  # as IngestConsumer: no ORM housekeeping
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def connect(self):
        await self.accept()
        await self.send(text_data=HELLO)

    async def receive(self, text_data=None, bytes_data=None):
        message = orjson.loads(text_data if text_data is not None else bytes_data)
        ids = [event["id"] for event in message["events"]]
        await self.send(
            text_data=orjson.dumps({"type": "ack", "ids": ids, "rejected": []}).decode()
        )


application = ProtocolTypeRouter(
    {"websocket": URLRouter([path("ws/ingest", BareConsumer.as_asgi())])}
)


def main() -> None:
    from datalab.management.commands.serve import daphne_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    daphne_server(application, host=args.host, port=args.port).run()


if __name__ == "__main__":
    main()
