from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The patient portal: submissions, social links, the clinician's inbox, findings."""

    name = "portal"
