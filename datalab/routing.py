"""Websocket routes of every app, in one list."""

from ingest.routing import websocket_urlpatterns as ingest_routes
from live.routing import websocket_urlpatterns as live_routes

websocket_urlpatterns: list = [*ingest_routes, *live_routes]
