from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "workspace.mail"
    label = "workspace_mail"
    verbose_name = "E-mail notifications"
    default_auto_field = "django.db.models.BigAutoField"
