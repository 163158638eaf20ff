from django.apps import AppConfig


class WorkspaceConfig(AppConfig):
    name = "workspace"
    verbose_name = "Accounts, workspaces and audit"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the deploy checks)
