from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"

    def ready(self) -> None:
        # Workspace's own texts (workspace names and descriptions) pass the
        # same PHI gate; workspace sits below cases, so the gate is handed down.
        from workspace import text_gate

        from .phi_gate import PHIFound, phi_gate
        from .views.phi_forms import attach_findings, dismissed_keys

        text_gate.register(
            text_gate.TextGate(
                check=phi_gate,
                refused=PHIFound,
                dismissed_keys=dismissed_keys,
                attach_findings=attach_findings,
            )
        )
