from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self) -> None:
        from live import notifications, realtime
        from outbox import services as outbox

        outbox.subscribe(notifications.on_domain_event)
        outbox.subscribe_traffic(realtime.note_events)
