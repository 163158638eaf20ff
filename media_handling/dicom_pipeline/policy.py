"""Where a series' keys come from, and the bundle that carries a series to
the task: its original files plus the policy, never a secret."""

from __future__ import annotations

import hmac
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from workspace.models import Workspace

from ..deid.dicom import DicomDeidOptions
from ..sniff import MediaError

BUNDLE_MANIFEST = "manifest.json"
BUNDLE_VERSION = 1
_DATE_SHIFT_SPAN = 365 * 9


@dataclass(frozen=True)
class DicomPolicy:
    """How a series is de-identified; holds no secret, only where to find it.

    ``scope`` names the group of uploads that must map UIDs consistently
    (e.g. ``"case:12"``); ``workspace_id`` names the workspace whose secret
    keys the mapping (None: the server's own secret); ``shift_dates`` keeps
    dates, moved by an offset derived from the same secret and scope,
    instead of removing them.
    """

    scope: str
    workspace_id: int | None = None
    shift_dates: bool = False

    def __post_init__(self) -> None:
        if not self.scope or len(self.scope) > 100:
            raise ValueError("a DICOM policy needs a scope of at most 100 characters")

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "workspace_id": self.workspace_id,
            "shift_dates": self.shift_dates,
        }

    @classmethod
    def from_dict(cls, data: Any) -> DicomPolicy:
        if not isinstance(data, dict):
            raise ValueError("the policy must be an object")
        workspace = data.get("workspace_id")
        if workspace is not None and not isinstance(workspace, int):
            raise ValueError("workspace_id must be an integer")
        return cls(
            scope=str(data.get("scope") or ""),
            workspace_id=workspace,
            shift_dates=bool(data.get("shift_dates")),
        )


def _secret(policy: DicomPolicy) -> bytes:
    if policy.workspace_id is None:
        return settings.SECRET_KEY.encode()
    secret = (
        Workspace.objects.filter(pk=policy.workspace_id)
        .values_list("deid_secret", flat=True)
        .first()
    )
    if not secret:
        raise MediaError("The workspace this study was uploaded to no longer exists.")
    return secret.encode()


def policy_options(policy: DicomPolicy) -> DicomDeidOptions:
    """The de-identification options for ``policy``, keys derived on the spot.

    The UID key is HMAC-SHA256(secret, scope): one key per case, so the same
    original UID maps to the same new UID in every upload to that case and
    to a different one in any other case. With ``shift_dates`` the offset is
    between one and ten years back, fixed per scope, so intervals survive.
    """
    secret = _secret(policy)
    scope = policy.scope.encode()
    uid_key = hmac.new(secret, b"consilium.dicom.uid\x00" + scope, "sha256").digest()
    shift = None
    if policy.shift_dates:
        digest = hmac.new(secret, b"consilium.dicom.date\x00" + scope, "sha256")
        shift = -(365 + int.from_bytes(digest.digest()[:4], "big") % _DATE_SHIFT_SPAN)
    return DicomDeidOptions(uid_key=uid_key, date_shift_days=shift)


def bundle_write(
    path: str | Path, files: Sequence[str | Path], *, policy: DicomPolicy
) -> Path:
    """Write the bundle of one series: its files, in display order, and the
    policy. Members are named by position only: uploaded file names may
    carry identifiers."""
    path = Path(path)
    manifest = {
        "version": BUNDLE_VERSION,
        "policy": policy.as_dict(),
        "files": [f"{i:05d}.dcm" for i in range(len(files))],
    }
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(BUNDLE_MANIFEST, json.dumps(manifest))
        for name, source in zip(manifest["files"], files, strict=True):
            archive.write(source, name)
    return path


def bundle_open(source: Path) -> tuple[zipfile.ZipFile, DicomPolicy, list[str]]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise MediaError(
            "This DICOM upload was not prepared by the study uploader; please "
            "upload it again."
        ) from exc
    try:
        manifest = json.loads(archive.read(BUNDLE_MANIFEST))
        if manifest.get("version") != BUNDLE_VERSION:
            raise ValueError("unknown bundle version")
        policy = DicomPolicy.from_dict(manifest.get("policy"))
        names = [str(n) for n in manifest["files"]]
    except (KeyError, ValueError, TypeError) as exc:
        archive.close()
        raise MediaError(
            "This DICOM upload was not prepared by the study uploader; please "
            "upload it again."
        ) from exc
    return archive, policy, names
