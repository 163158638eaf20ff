from django.apps import AppConfig


class ConsultsConfig(AppConfig):
    """Specialist consults on a case: requests, timelines, reminders, the queue."""

    name = "consults"
