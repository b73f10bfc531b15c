"""The one shape of a notification, for the REST API and the websocket alike."""

from rest_framework import serializers

from live.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    app = serializers.IntegerField(source="app_ref", allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "app", "app_name", "data", "created_at", "read_at"]
        read_only_fields = fields


def notification_payload(notification: Notification) -> dict:
    """A plain, JSON-ready dict (channel layers serialize messages with msgpack)."""
    return dict(NotificationOutput(notification).data)
