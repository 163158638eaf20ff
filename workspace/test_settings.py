"""Settings for the test suite: the real settings, plus speed and isolation.

Set ``CONSILIUM_TEST_S3=moto`` to run the suite against S3 storage served by
a moto server that these settings start on loopback (scale mode in CI).
"""

import os
import tempfile
import uuid

os.environ.setdefault("TASKS_BACKEND", "immediate")

from .settings import *  # noqa: F403
from .settings import (
    CACHES,
    CHANNEL_LAYERS,
    DATABASES,
    REDIS_URL,
    SECURE_CSP,
    STORAGES,
    VAR_DIR,
)

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
MEDIA_ROOT = tempfile.mkdtemp(prefix="consilium-test-media-")
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Generous limits so tests that send many messages exercise logic, not limits;
# the rate-limit test lowers them itself.
MESSAGE_RATE_LIMIT = 1000
MESSAGE_CHANGE_RATE_LIMIT = 1000
TOPIC_RATE_LIMIT = 1000

# Browser and Daphne tests run the server in a forked process, which must see
# the same test database: on SQLite that means a file, not memory.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {
        "NAME": str(
            VAR_DIR / f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.sqlite3"
        )
    }

# Each run gets its own Redis namespace, so runs never see each other's keys.
RUN_ID = uuid.uuid4().hex[:8]
if REDIS_URL:
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"consilium-test-{RUN_ID}"
    CACHES["default"]["KEY_PREFIX"] = f"consilium-test-{RUN_ID}"

S3_TEST_SERVER = None
if os.environ.get("CONSILIUM_TEST_S3") == "moto":
    import boto3
    from moto.server import ThreadedMotoServer

    S3_TEST_SERVER = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    S3_TEST_SERVER.start()
    _host, _port = S3_TEST_SERVER.get_host_and_port()
    S3_ENDPOINT_URL = f"http://{_host}:{_port}"
    # Browser tests load presigned media from moto, over plain http.
    for _directive in ("img-src", "media-src", "connect-src"):
        SECURE_CSP[_directive] = [*SECURE_CSP[_directive], S3_ENDPOINT_URL]
    S3_BUCKET = f"consilium-test-{RUN_ID}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT_URL,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=S3_BUCKET)
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL,
            "region_name": "us-east-1",
            "access_key": "testing",
            "secret_key": "testing",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "signature_version": "s3v4",
            "file_overwrite": False,
            "addressing_style": "path",
        },
    }
else:
    STORAGES["default"]["OPTIONS"]["location"] = MEDIA_ROOT
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
