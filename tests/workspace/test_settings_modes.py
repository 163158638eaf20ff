"""Settings pick each service from the environment, independently."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "cache": settings.CACHES["default"]["BACKEND"],
    "storage": settings.STORAGES["default"]["BACKEND"],
    "storage_options": {k: str(v) for k, v in settings.STORAGES["default"]["OPTIONS"].items()},
    "tasks": settings.TASKS["default"]["BACKEND"],
    "debug": settings.DEBUG,
}))
"""

SERVICE_VARS = [
    "DATABASE_URL",
    "REDIS_URL",
    "S3_BUCKET",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "TASKS_BACKEND",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CONSILIUM_TEST_S3",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "AUDIT_HMAC_KEY",
    "AUDIT_HMAC_KEY_ID",
    "AUDIT_HMAC_PREVIOUS_KEYS",
]


def probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "workspace.settings"
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_use_sqlite_memory_layer_and_local_files():
    s = probe()
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["db_name"].endswith("var/consilium.sqlite3")
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["cache"].endswith("LocMemCache")
    assert s["storage"] == "django.core.files.storage.FileSystemStorage"
    assert s["storage_options"]["base_url"] == "None"  # never served directly
    assert s["tasks"] == "django_tasks_db.DatabaseBackend"


def test_scale_variables_switch_to_postgres_redis_and_private_s3():
    s = probe(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/consilium",
        REDIS_URL="redis://127.0.0.1:6379/0",
        S3_BUCKET="media",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_REGION="eu-west-2",
    )
    assert s["db"] == "django.db.backends.postgresql"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert s["storage"] == "storages.backends.s3.S3Storage"
    assert s["storage_options"]["default_acl"] == "private"
    assert s["storage_options"]["querystring_auth"] == "True"
    assert s["storage_options"]["endpoint_url"] == "http://127.0.0.1:9000"
    assert int(s["storage_options"]["querystring_expire"]) <= 600


def test_each_service_is_chosen_independently():
    s = probe(REDIS_URL="redis://127.0.0.1:6379/0")
    assert s["db"] == "django.db.backends.sqlite3"
    assert s["layer"] == "channels_redis.core.RedisChannelLayer"
    assert s["storage"] == "django.core.files.storage.FileSystemStorage"


def test_production_without_secret_key_refuses_to_start():
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="workspace.settings", DEBUG="0")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr


def test_unknown_task_backend_is_a_clear_error():
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(DJANGO_SETTINGS_MODULE="workspace.settings", TASKS_BACKEND="celery")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "TASKS_BACKEND must be one of" in out.stderr


@pytest.mark.parametrize("debug", ["0"])
def test_check_deploy_is_clean_with_production_variables(debug):
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        DEBUG=debug,
        SECRET_KEY="k" * 20 + "a-real-production-secret-with-entropy-9f8e7d6c5b4a",
        ALLOWED_HOSTS="consilium.example.org",
        AUDIT_HMAC_KEY="an-audit-key-of-plenty-of-random-characters-5e4d3c2b1a",
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_check_deploy_refuses_production_without_an_audit_key():
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        DEBUG="0",
        SECRET_KEY="k" * 20 + "a-real-production-secret-with-entropy-9f8e7d6c5b4a",
        ALLOWED_HOSTS="consilium.example.org",
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert out.returncode != 0
    assert "consilium.E001" in out.stderr + out.stdout
    assert "AUDIT_HMAC_KEY is not set" in out.stderr + out.stdout
