from django.apps import AppConfig


class LibConfig(AppConfig):
    """Shared helpers: images, rich text, colours, media serving. No models."""

    name = "lib"
