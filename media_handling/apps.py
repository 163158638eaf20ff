from django.apps import AppConfig


class MediaHandlingConfig(AppConfig):
    name = "media_handling"
