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


LOCAL_PROBE = """
import json, django
from django.conf import settings
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment(debug=settings.DEBUG)
from django.core.exceptions import PermissionDenied
from django.urls import clear_url_caches, path
import workspace.urls

def refuse(request):
    raise PermissionDenied("Only the case's owner may do that.")

def crash(request):
    raise RuntimeError("an unexpected bug")

workspace.urls.urlpatterns += [path("probe/refuse/", refuse), path("probe/crash/", crash)]
clear_url_caches()
client = Client(raise_request_exception=False)
missing = client.get("/no-such-page/")
refused = client.get("/probe/refuse/")
crashed = client.get("/probe/crash/")
css = client.get("/static/css/app.css")
print(json.dumps({
    "debug": settings.DEBUG,
    "status": missing.status_code,
    "body": missing.content.decode(),
    "refused": [refused.status_code, refused.content.decode()],
    "crashed": [crashed.status_code, crashed.content.decode()],
    "css": css.status_code,
    "cookie_secure": settings.SESSION_COOKIE_SECURE,
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "secret_is_dev": settings.SECRET_KEY.startswith("django-insecure"),
}))
"""


def _make_run_env() -> dict[str, str]:
    """The variables `make run` gives the server (read from `make -n run`)."""
    out = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    daphne = next(line for line in out.stdout.splitlines() if "daphne" in line)
    env = {}
    for word in daphne.split():
        if "=" not in word or word.startswith("-"):
            break
        key, value = word.split("=", 1)
        env[key] = value
    return env


def _local_probe(tmp_path, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update(
        DJANGO_SETTINGS_MODULE="workspace.settings",
        CONSILIUM_VAR_DIR=str(tmp_path),
        **_make_run_env(),
        **env,
    )
    out = subprocess.run(
        [sys.executable, "-c", LOCAL_PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_make_run_shows_the_friendly_404_without_the_url_list(tmp_path):
    assert _make_run_env() == {"CONSILIUM_LOCAL": "1"}
    s = _local_probe(tmp_path)
    assert s["debug"] is False
    assert s["status"] == 404
    assert "There is nothing here" in s["body"]
    assert "URLconf" not in s["body"] and "admin/" not in s["body"]
    status, body = s["refused"]
    assert status == 403 and "Only the case&#x27;s owner may do that." in body
    assert "Not allowed" in body
    status, body = s["crashed"]
    assert status == 500 and "Something went wrong" in body
    assert "Traceback" not in body and "an unexpected bug" not in body
    # Static files still load (WhiteNoise) and cookies work over plain http.
    assert s["css"] == 200
    assert s["cookie_secure"] is False and s["ssl_redirect"] is False
    # A random key, made once for this machine, not the published dev key.
    assert s["secret_is_dev"] is False
    assert (tmp_path / "local-secret-key").stat().st_mode & 0o077 == 0


def test_debug_make_run_shows_the_technical_404_when_asked_for(tmp_path):
    s = _local_probe(tmp_path, DEBUG="1")
    assert s["debug"] is True
    assert s["status"] == 404
    assert "URLconf" in s["body"]
