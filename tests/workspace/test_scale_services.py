"""Prove the scale-mode services really work (skipped only in embedded mode)."""

import subprocess
import sys
import textwrap
import urllib.request
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_postgres_runs_migrations_and_queries(requires_postgres, clinician):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'workspace'")
        assert cursor.fetchone()[0] >= 2
        cursor.execute(
            "SELECT username FROM workspace_user WHERE id = %s", [clinician.pk]
        )
        assert cursor.fetchone()[0] == "alice"


def test_message_crosses_redis_channel_layer_between_processes(requires_redis):
    """A separate Python process receives what this one sends to a group."""
    group = f"xproc-{uuid.uuid4().hex[:8]}"
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    receiver = textwrap.dedent(
        f"""
        import asyncio, sys
        from channels_redis.core import RedisChannelLayer
        async def main():
            layer = RedisChannelLayer(hosts=[{settings.REDIS_URL!r}], prefix={prefix!r})
            channel = await layer.new_channel()
            await layer.group_add({group!r}, channel)
            print("READY", flush=True)
            message = await asyncio.wait_for(layer.receive(channel), 20)
            print("GOT", message["text"], flush=True)
        asyncio.run(main())
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", receiver], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout.readline().strip() == "READY"
        async_to_sync(get_channel_layer().group_send)(
            group, {"type": "x", "text": "across"}
        )
        assert proc.stdout.readline().strip() == "GOT across"
    finally:
        proc.kill()
        proc.wait()


def test_s3_storage_saves_reads_back_and_serves_presigned(requires_s3):
    name = default_storage.save(
        f"tests/{uuid.uuid4().hex}.txt", ContentFile(b"de-identified")
    )
    with default_storage.open(name) as fh:
        assert fh.read() == b"de-identified"
    url = default_storage.url(name)
    assert "X-Amz-Signature=" in url and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback moto)
        assert response.read() == b"de-identified"
    # Objects are private: the same URL without its signature is refused.
    bare = url.split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(bare, timeout=10)  # noqa: S310
    assert exc.value.code == 403
    default_storage.delete(name)
