from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "live"

    def ready(self) -> None:
        from live import events, notifications

        events.subscribe(notifications.on_domain_event)
