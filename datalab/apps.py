from django.apps import AppConfig
from django.urls import register_converter


class DatalabConfig(AppConfig):
    name = "datalab"

    def ready(self) -> None:
        from datalab.converters import IdConverter

        register_converter(IdConverter, "id")  # before any URL configuration is loaded
