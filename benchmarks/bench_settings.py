"""Settings for the benchmark servers: production settings plus a URLconf
with the baseline views, and plain static storage (no collectstatic run)."""

import os

from workspace.settings import *  # noqa: F403
from workspace.settings import STORAGES

ROOT_URLCONF = "benchmarks.bench_urls"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Served over plain HTTP on 127.0.0.1.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0

# What-if experiments only (unset in `make bench`): keep database connections
# open between requests, as CONN_MAX_AGE does for PostgreSQL.
if os.environ.get("BENCH_CONN_MAX_AGE"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ["BENCH_CONN_MAX_AGE"])  # noqa: F405
