"""Storage helpers: private names, streaming copies, idempotent deletion, ranges."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from media_handling import storage as media_storage
from media_handling.storage import RangeNotSatisfiable, parse_range


def local_storages(path) -> dict:
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(path), "base_url": None},
        },
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-100", (900, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("BYTES = 1 - 2", (1, 2)),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
        ("items=0-1", None),
        ("bytes=5-1", None),
        ("bytes=-", None),
    ],
)
def test_a_range_header_is_read_as_one_byte_range_or_ignored(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=2000-3000", "bytes=-0"])
def test_a_range_starting_past_the_end_cannot_be_satisfied(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_names_carry_the_asset_key_and_never_an_uploaded_name():
    key = uuid.UUID("12345678123456781234567812345678")

    assert media_storage.incoming_name(key) == f"incoming/{key.hex}"
    assert (
        media_storage.rendition_name(key, "run1", "thumb", "jpg")
        == f"media/{key.hex}/run1/thumb.jpg"
    )
    assert media_storage.mime_for("a/b/video.mp4") == "video/mp4"
    assert media_storage.mime_for("a/b/blob.xyz") == "application/octet-stream"


@pytest.mark.parametrize("where", ["configured", "local"])
def test_a_stored_file_can_be_copied_out_hashed_and_deleted_twice(tmp_path, where):
    # Runs against the configured storage (S3 in scale mode) and local files.
    overrides = {"STORAGES": local_storages(tmp_path / "m")} if where == "local" else {}
    with override_settings(**overrides):
        data = b"clean rendition bytes " * 1000
        name = default_storage.save(
            f"media/{uuid.uuid4().hex}/r/display.jpg", ContentFile(data)
        )

        with media_storage.local_copy(name) as path:
            size, digest = media_storage.file_digest(path)
            assert path.read_bytes() == data
        media_storage.delete_names([name])
        media_storage.delete_names([name])

        assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
        assert not default_storage.exists(name)


def test_local_deletion_removes_the_empty_folders_it_leaves(tmp_path):
    with override_settings(STORAGES=local_storages(tmp_path)):
        name = default_storage.save("media/abc/run/thumb.jpg", ContentFile(b"x"))
        default_storage.save("media/keep.txt", ContentFile(b"y"))

        media_storage.delete_names([name])

    assert not (tmp_path / "media" / "abc").exists()
    assert (tmp_path / "media" / "keep.txt").exists()
