"""Sniffing decides a file's type from its bytes, never from its name."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from media_handling.sniff import Sniffed, sniff, sniff_bytes
from tests.fixtures import media_factory as mf


def _dicom(path: Path, *, preamble: bool, implicit: bool = False) -> Path:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.PatientName = "Planted^Patient"
    if preamble:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(path, enforce_file_format=True)
    else:
        ds.save_as(path, implicit_vr=implicit, little_endian=True)
    return path


@pytest.mark.parametrize(
    ("write", "kind", "mime", "ext"),
    [
        (mf.write_jpeg, "image", "image/jpeg", "jpg"),
        (mf.write_png, "image", "image/png", "png"),
        (mf.write_webp, "image", "image/webp", "webp"),
        (mf.write_heic, "image", "image/heic", "heic"),
        (mf.write_phone_mp4, "video", "video/mp4", "mp4"),
        (mf.write_phone_mov, "video", "video/quicktime", "mov"),
        (mf.write_webm, "video", "video/webm", "webm"),
    ],
)
def test_generated_media_is_recognised_from_its_bytes(tmp_path, write, kind, mime, ext):
    # Given a file named with no extension at all
    path = write(tmp_path / "upload")

    # When / then
    assert sniff(path) == Sniffed(kind, mime, ext)


def test_matroska_is_told_apart_from_webm_by_its_doctype(tmp_path):
    path = mf.write_video(tmp_path / "clip", container="matroska", audio=False)

    assert (sniff(path).kind, sniff(path).mime) == ("video", "video/x-matroska")


def test_avif_is_an_image(tmp_path):
    path = tmp_path / "upload"
    mf.quadrants().save(path, format="AVIF")

    assert (sniff(path).kind, sniff(path).mime) == ("image", "image/avif")


def test_old_quicktime_without_ftyp_is_recognised_by_its_first_atom():
    head = b"\x00\x00\x00\x08wide" + b"\x00\x00\x10\x00mdat" + b"\x00" * 64

    assert sniff_bytes(head).mime == "video/quicktime"


def test_a_free_atom_alone_is_not_taken_for_quicktime():
    head = b"\x00\x00\x00\x10free" + b"hello world!" + b"\x00\x00\x00\x08junk"

    assert sniff_bytes(head).kind is None


def test_dicom_with_preamble_is_recognised(tmp_path):
    path = _dicom(tmp_path / "image", preamble=True)

    assert sniff(path) == Sniffed("dicom", "application/dicom", "dcm")


@pytest.mark.parametrize("implicit", [False, True])
def test_dicom_without_preamble_is_recognised(tmp_path, implicit):
    path = _dicom(tmp_path / "image", preamble=False, implicit=implicit)
    assert path.read_bytes()[128:132] != b"DICM"

    assert sniff(path).kind == "dicom"


@pytest.mark.parametrize(
    "head",
    [
        b"\x08\x00\x05\x00ZZ\x0a\x00ISO_IR 100" + b"\x00" * 32,  # not a VR
        b"\x08\x00\x16\x00UI\x40\x00" + b"1" * 16,  # value runs past the data
        b"\x08\x00\x16\x00UI\x02\x001\x00\x08\x00\x05\x00CS\x02\x00AB",  # tags go down
        b"\x08\x00" + random.Random(8).randbytes(62),
    ],
)
def test_bytes_that_merely_start_like_dicom_are_not_dicom(head):
    assert sniff_bytes(head).kind != "dicom"


def test_zip_is_recognised(tmp_path):
    path = tmp_path / "series"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.dcm", b"x")

    assert sniff(path).kind == "zip"


def test_the_extension_is_ignored_when_it_lies(tmp_path):
    path = mf.write_png(tmp_path / "holiday.jpg")

    assert sniff(path).mime == "image/png"


def test_a_file_object_is_read_from_its_position_which_is_then_restored(tmp_path):
    data = b"prefix" + mf.write_png(tmp_path / "a.png").read_bytes()
    stream = io.BytesIO(data)
    stream.seek(6)

    result = sniff(stream)

    assert result.mime == "image/png"
    assert stream.tell() == 6


def test_an_empty_file_is_unsupported_with_a_reason(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")

    result = sniff(path)

    assert result.kind is None
    assert not result.supported
    assert result.reason == "The file is empty."


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"GIF89a" + b"\x00" * 32, "Unsupported file type (image/gif)."),
        (b"%PDF-1.7\n" + b"\x00" * 32, "Unsupported file type (application/pdf)."),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "AVI videos are not supported."),
        (
            b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom",
            "Audio files are not supported.",
        ),
        (
            b"\x00\x00\x00\x14ftypcrx \x00\x00\x00\x01crx ",
            "Unsupported ISO media file (brand 'crx').",
        ),
        (b"just some text, nothing more", "Unrecognised file type."),
    ],
)
def test_unsupported_types_get_a_reason_to_show(head, reason):
    result = sniff_bytes(head)

    assert result.kind is None
    assert result.reason == reason


def test_ebml_with_an_unknown_doctype_is_unsupported():
    doctype = b"\x42\x82\x84abcd"
    head = b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(doctype)]) + doctype

    result = sniff_bytes(head)

    assert result.kind is None
    assert "abcd" in result.reason
