"""Create (or refresh) a demo that shows every feature. Safe to run twice.

Each app may contribute a ``demo.py`` with ``seed(demo: Demo) -> None``; they
run in INSTALLED_APPS order, so an app can build on what the apps below it
created. Nothing here is real patient data.
"""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from workspace.demo import DEMO_PASSWORD, Demo


class Command(BaseCommand):
    help = "Seed an idempotent demo: workspace, clinicians, a specialist, a patient and their cases."

    def handle(self, *args, **options):
        demo = Demo(stdout=self.stdout)
        with transaction.atomic():
            for config in apps.get_app_configs():
                try:
                    module = import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.demo":
                        raise
                    continue
                module.seed(demo)
        self.stdout.write(self.style.SUCCESS("Demo ready. Log in with any of these:"))
        for username, description in demo.logins:
            self.stdout.write(f"  {username:<12} {DEMO_PASSWORD}   {description}")
