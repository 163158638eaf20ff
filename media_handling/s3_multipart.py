"""Presigned S3 multipart uploads: the browser sends the bytes, S3 keeps them.

The app creates the multipart upload, signs one URL per part (PUT, valid for
``MEDIA_URL_EXPIRY_SECONDS``), and completes the upload from the parts S3
says it holds, so the browser never needs to read the parts' ETags (a CORS
detail that is easy to get wrong). After completion the server checks the
object's size and sniffs its first bytes with a ranged GET before anything
else happens to it. The client, bucket and key prefix are those of the
default storage (django-storages S3Storage), so uploads land where the rest
of the media lives.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from django.core.files.storage import default_storage

from . import conf
from .sniff import HEAD_BYTES, MediaError

MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PARTS = 10_000


class UploadIncomplete(MediaError):
    """Parts are missing; the upload stays open so they can still be sent."""


def _client() -> Any:
    return default_storage.connection.meta.client


def _bucket() -> str:
    return default_storage.bucket_name


def object_key(name: str) -> str:
    """The S3 key the default storage uses for a storage name."""
    return default_storage._normalize_name(name)


def multipart_create(name: str) -> str:
    """Start a multipart upload of a private object; returns its upload id."""
    response = _client().create_multipart_upload(
        Bucket=_bucket(), Key=object_key(name), ACL="private"
    )
    return response["UploadId"]


def multipart_sign_parts(
    name: str, upload_id: str, numbers: list[int], *, expires: int | None = None
) -> dict[int, str]:
    """A presigned PUT URL for each 1-based part number."""
    client = _client()
    key = object_key(name)
    expires = expires or conf.url_expiry_seconds()
    return {
        n: client.generate_presigned_url(
            "upload_part",
            Params={
                "Bucket": _bucket(),
                "Key": key,
                "UploadId": upload_id,
                "PartNumber": n,
            },
            ExpiresIn=expires,
            HttpMethod="PUT",
        )
        for n in numbers
    }


def multipart_parts(name: str, upload_id: str) -> list[dict[str, Any]]:
    """The parts S3 holds for an upload, in order (all pages)."""
    client = _client()
    parts: list[dict[str, Any]] = []
    marker = 0
    while True:
        response = client.list_parts(
            Bucket=_bucket(),
            Key=object_key(name),
            UploadId=upload_id,
            PartNumberMarker=marker,
        )
        parts.extend(response.get("Parts", []))
        if not response.get("IsTruncated"):
            return sorted(parts, key=lambda p: p["PartNumber"])
        marker = response["NextPartNumberMarker"]


def multipart_complete(
    name: str, upload_id: str, *, size: int, part_count: int
) -> None:
    """Finish the upload once every part is there and the sizes add up.

    Raises ``UploadIncomplete`` when parts are missing (the upload stays open)
    and MediaError, after aborting the upload, when the total differs from
    ``size``.
    """
    try:
        parts = multipart_parts(name, upload_id)
    except ClientError as exc:
        raise MediaError("The upload was not found; it may have expired.") from exc
    numbers = [p["PartNumber"] for p in parts]
    total = sum(p["Size"] for p in parts)
    if numbers != list(range(1, part_count + 1)):
        raise UploadIncomplete(
            f"The upload is incomplete: {len(numbers)} of {part_count} parts arrived."
        )
    if total != size:
        multipart_abort(name, upload_id)
        raise MediaError(
            f"The upload holds {total} bytes, but the file has {size}; "
            "please try again."
        )
    _client().complete_multipart_upload(
        Bucket=_bucket(),
        Key=object_key(name),
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in parts]
        },
    )


def multipart_abort(name: str, upload_id: str) -> None:
    """Abort an upload and free its parts; an unknown upload is fine."""
    try:
        _client().abort_multipart_upload(
            Bucket=_bucket(), Key=object_key(name), UploadId=upload_id
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "404"):
            raise


def object_size(name: str) -> int:
    response = _client().head_object(Bucket=_bucket(), Key=object_key(name))
    return int(response["ContentLength"])


def object_head(name: str, length: int = HEAD_BYTES) -> bytes:
    """The first ``length`` bytes of an object, by a ranged GET."""
    response = _client().get_object(
        Bucket=_bucket(), Key=object_key(name), Range=f"bytes=0-{length - 1}"
    )
    with response["Body"] as body:
        return body.read()
