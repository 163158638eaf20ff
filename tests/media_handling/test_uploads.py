"""CappedUploadHandler streams each file to disk, sniffs it, caps it per kind,
and refuses bad files one by one; session parts append in order."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc

import pytest
from django.test import override_settings

from media_handling.sniff import MediaError
from media_handling.uploads import (
    AcceptedUpload,
    CappedUploadHandler,
    RejectedUpload,
    format_bytes,
    part_write,
)
from tests.fixtures import media_factory as mf
from tests.fixtures.media_uploads import BOUNDARY, multipart_body, parse_uploads


@pytest.fixture
def jpeg(tmp_path):
    return mf.write_jpeg(tmp_path / "photo.jpg").read_bytes()


@pytest.fixture
def png(tmp_path):
    return mf.write_png(tmp_path / "picture.png").read_bytes()


def test_each_file_of_a_batch_gets_its_own_verdict(tmp_path, jpeg, png):
    # Given a batch with a good photo, text pretending to be a photo, an
    # empty file and a PNG whose name claims it is a JPEG
    body = multipart_body(
        [
            ("good.jpg", jpeg),
            ("notes.jpg", b"Patient John Planted, bed 12\n" * 200),
            ("empty.png", b""),
            ("lying.jpg", png),
        ]
    )

    # When the handler streams it
    files = parse_uploads(body, len(body))

    # Then the good files are accepted and each bad one says why
    verdicts = [
        (f.name, getattr(f, "error", None), getattr(f, "kind", None)) for f in files
    ]
    assert verdicts == [
        ("good.jpg", None, "image"),
        ("notes.jpg", "Unrecognised file type.", None),
        ("empty.png", "The file is empty.", None),
        ("lying.jpg", None, "image"),
    ]
    assert files[3].sniffed.mime == "image/png"
    assert files[0].read() == jpeg


def test_an_accepted_file_is_on_disk_with_its_size_and_digest(jpeg):
    body = multipart_body([("photo.jpg", jpeg)])

    (upload,) = parse_uploads(body, len(body))

    assert isinstance(upload, AcceptedUpload)
    assert os.path.exists(upload.temporary_file_path())
    assert upload.size == len(jpeg)
    assert upload.sha256 == hashlib.sha256(jpeg).hexdigest()


def test_a_file_over_the_cap_for_its_kind_is_refused_and_its_temp_file_removed(
    tmp_path, jpeg, png
):
    # Given photos capped below the JPEG's size, and a temp folder to watch
    padded = jpeg + b"\x00" * 200_000
    spool = tmp_path / "spool"
    spool.mkdir()
    with override_settings(
        MEDIA_MAX_IMAGE_BYTES=100_000, FILE_UPLOAD_TEMP_DIR=str(spool)
    ):
        body = multipart_body([("big.jpg", padded), ("small.png", png)])

        files = parse_uploads(body, len(body))

    # Then the big one is refused with the limit, the small one still arrives
    assert isinstance(files[0], RejectedUpload)
    assert files[0].error == (
        f"The file is too large ({format_bytes(len(padded))}): Photos may be at most "
        "97.7 KB."
    )
    assert isinstance(files[1], AcceptedUpload)
    # and only the accepted file's temporary file exists
    assert [p.name for p in spool.iterdir()] == [
        os.path.basename(files[1].temporary_file_path())
    ]


def test_unsupported_but_recognised_types_name_themselves(tmp_path):
    gif = mf.write_gif(tmp_path / "a.gif").read_bytes()
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100
    body = multipart_body([("a.gif", gif), ("a.wav", wav)])

    files = parse_uploads(body, len(body))

    assert [f.error for f in files] == [
        "Unsupported file type (image/gif).",
        "Audio files are not supported.",
    ]


def test_a_tiny_file_shorter_than_the_sniffing_window_is_still_sniffed(tmp_path):
    tiny = mf.write_png(tmp_path / "t.png").read_bytes()[:3000] + b"\x00" * 10

    (upload,) = parse_uploads(multipart_body([("t.png", tiny)]), 3100)

    assert upload.kind == "image"


class _GeneratedBody(io.RawIOBase):
    """A multipart body produced on the fly: one large MP4-looking file."""

    def __init__(self, size: int) -> None:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
            'filename="long.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        ftyp = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41"
        self._parts = [head, ftyp]
        self._remaining = size - len(ftyp)
        self._tail = f"\r\n--{BOUNDARY}--\r\n".encode()
        self.length = len(head) + size + len(self._tail)
        self._block = bytes(range(256)) * 256

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._parts:
            data = self._parts.pop(0)
        elif self._remaining > 0:
            data = self._block[: min(len(self._block), self._remaining, len(buffer))]
            self._remaining -= len(data)
        elif self._tail:
            data, self._tail = self._tail, b""
        else:
            return 0
        data = data[: len(buffer)]
        buffer[: len(data)] = data
        return len(data)


def test_memory_stays_flat_while_a_large_file_streams_to_disk(tmp_path):
    # Given a 48 MiB file in a body that is generated as it is read
    size = 48 * 1024 * 1024
    body = _GeneratedBody(size)

    # When the handler parses it, with allocations traced
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(tmp_path)):
        tracemalloc.start()
        try:
            (upload,) = parse_uploads(io.BufferedReader(body, 65536), body.length)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

    # Then all of it reached the disk while Python never held more than a
    # few chunks at once
    assert upload.size == size
    assert os.path.getsize(upload.temporary_file_path()) == size
    assert peak < 4 * 1024 * 1024


def test_the_handler_cleans_up_when_the_upload_is_interrupted(tmp_path, jpeg):
    spool = tmp_path / "spool"
    spool.mkdir()
    with override_settings(FILE_UPLOAD_TEMP_DIR=str(spool)):
        handler = CappedUploadHandler()
        handler.new_file("files", "a.jpg", "image/jpeg", None)
        handler.receive_data_chunk(jpeg + b"\x00" * 5000, 0)
        assert len(list(spool.iterdir())) == 1

        handler.upload_interrupted()

    assert list(spool.iterdir()) == []


def test_parts_are_written_at_their_offsets_in_any_order_and_a_retry_replaces_one(
    tmp_path,
):
    path = tmp_path / "session.part"
    part_write(path, offset=4, length=4, stream=io.BytesIO(b"XXXX"), size=10)
    part_write(path, offset=0, length=4, stream=io.BytesIO(b"abcd"), size=10)
    part_write(path, offset=8, length=2, stream=io.BytesIO(b"ij"), size=10)

    # A retry of the second part
    part_write(path, offset=4, length=4, stream=io.BytesIO(b"efgh"), size=10)

    assert path.read_bytes() == b"abcdefghij"


@pytest.mark.parametrize("data", [b"abc", b"abcdef"], ids=["short", "long"])
def test_a_part_with_the_wrong_length_is_refused(tmp_path, data):
    with pytest.raises(MediaError, match="should hold 4 bytes"):
        part_write(tmp_path / "p", offset=0, length=4, stream=io.BytesIO(data), size=4)


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1536, "1.5 KB"), (50 * 1024**2, "50 MB"), (2 * 1024**3, "2 GB")],
)
def test_sizes_read_like_a_person_wrote_them(size, text):
    assert format_bytes(size) == text


# --- per-user limits on open upload sessions ------------------------------------------

LOCAL_SESSIONS = override_settings(MEDIA_DIRECT_UPLOADS=False)


def _start(user, size: int = 5000):
    from media_handling import services

    return services.upload_session_start(
        uploaded_by=user, owner_group="case.5", size=size
    )


@pytest.mark.django_db
@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_MAX_OPEN_SESSIONS=2)
def test_a_user_may_hold_only_so_many_open_sessions(clinician, make_clinician):
    from media_handling import services
    from media_handling.models import UploadSession
    from media_handling.sniff import UploadLimitExceeded

    first, _ = _start(clinician), _start(clinician)

    with pytest.raises(UploadLimitExceeded, match="2 uploads in progress") as refused:
        _start(clinician)
    assert refused.value.status == 429
    assert UploadSession.objects.filter(uploaded_by=clinician).count() == 2
    # Another user has their own allowance
    assert _start(make_clinician()).status == UploadSession.Status.OPEN
    # and cancelling one frees room
    services.upload_session_abort(session=first, by=clinician)
    assert _start(clinician).status == UploadSession.Status.OPEN


@pytest.mark.django_db
@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_MAX_OPEN_BYTES=12_000)
def test_open_sessions_may_declare_only_so_many_bytes_together(clinician):
    from media_handling.sniff import UploadLimitExceeded

    _start(clinician, 5000)
    _start(clinician, 7000)

    with pytest.raises(UploadLimitExceeded, match="would pass"):
        _start(clinician, 1)


@pytest.mark.django_db
@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_MAX_OPEN_SESSIONS=1)
def test_a_users_expired_sessions_do_not_count_and_are_closed(clinician):
    from datetime import timedelta

    from django.utils import timezone

    from media_handling import uploads as media_uploads
    from media_handling.models import UploadSession

    stale = _start(clinician)
    media_uploads.session_path(stale.token).write_bytes(b"x" * 10)
    UploadSession.objects.filter(pk=stale.pk).update(
        updated=timezone.now() - timedelta(days=2)
    )

    fresh = _start(clinician)

    stale.refresh_from_db()
    assert stale.status == UploadSession.Status.ABORTED
    assert not media_uploads.session_path(stale.token).exists()
    assert fresh.status == UploadSession.Status.OPEN


@pytest.mark.django_db
@LOCAL_SESSIONS
@override_settings(MEDIA_UPLOAD_MAX_OPEN_SESSIONS=3)
def test_completed_sessions_do_not_count(clinician):
    from media_handling.models import UploadSession

    for _ in range(3):
        session = _start(clinician)
        UploadSession.objects.filter(pk=session.pk).update(
            status=UploadSession.Status.COMPLETE
        )

    assert _start(clinician).status == UploadSession.Status.OPEN
