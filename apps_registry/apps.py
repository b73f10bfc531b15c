from django.apps import AppConfig


class AppsRegistryConfig(AppConfig):
    name = "apps_registry"
