from django.apps import AppConfig


class LibConfig(AppConfig):
    """Shared helpers: images, rich text, colours, media serving. No models."""

    name = "lib"

    def ready(self) -> None:
        from django.urls import register_converter

        from lib.converters import TokenConverter

        register_converter(TokenConverter, "token")
