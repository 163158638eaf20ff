"""``manage.py deidentify``: per-file lines, layout, failures, exit status."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from media_handling.deid.dicom import map_uid
from tests.fixtures import dicom_factory as factory

KEY_HEX = "00112233445566778899aabbccddeeff" * 2
KEY = bytes.fromhex(KEY_HEX)


def _run(*args: str) -> tuple[list[str], CommandError | None]:
    out = io.StringIO()
    error = None
    try:
        call_command("deidentify", *args, stdout=out)
    except CommandError as exc:
        error = exc
    return out.getvalue().splitlines(), error


def _files(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def case_folder(tmp_path: Path) -> dict[str, object]:
    """A realistic export: a CT series, an ultrasound, broken files, a photo,
    a text file, a DICOMDIR, and a zip holding a second series and a member
    that tries to escape the output folder."""
    root = tmp_path / "in" / "case"
    series = factory.make_ct_series(3)
    for index, ds in enumerate(series):
        factory.write(ds, root / "series" / f"IM{index}.dcm")
    factory.write(factory.make_ultrasound(), root / "us.dcm")
    whole = factory.ct_bytes(factory.make_ct_series(1)[0])
    (root / "broken").mkdir()
    (root / "broken" / "truncated.dcm").write_bytes(whole[:-300])
    (root / "broken" / "garbage.dcm").write_bytes(
        b"\x00" * 128 + b"DICM" + b"\xff" * 64
    )
    (root / "notes.txt").write_text("Zelda Quixote, MRN 88431907\n")
    (root / "DICOMDIR").write_bytes(b"\x00" * 128 + b"DICM")
    photo = np.full((40, 60, 3), 200, dtype=np.uint8)
    Image.fromarray(photo).save(root / "photo.png")

    zipped = factory.make_ct_series(2)
    archive = tmp_path / "in" / "more.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for index, ds in enumerate(zipped):
            handle.writestr(f"second/IM{index}.dcm", factory.ct_bytes(ds))
        handle.writestr("../escape.dcm", whole)
    return {
        "case": root,
        "archive": archive,
        "series": series,
        "zipped": zipped,
        "uids": factory.planted_uids(series + zipped),
    }


def test_mixed_folder_reports_each_file_and_fails_only_the_bad_ones(
    case_folder, tmp_path
):
    out = tmp_path / "out"
    case, archive = case_folder["case"], case_folder["archive"]

    lines, error = _run(str(case), str(archive), "--out", str(out), "--key", KEY_HEX)

    by_source = {}
    for line in lines[:-1]:
        status, _, rest = line.partition(" " if line.startswith("cleaned") else ": ")
        source = rest.split(" -> ")[0] if status == "cleaned" else rest.split(": ")[0]
        by_source[source] = status
    assert by_source == {
        **{str(case / "series" / f"IM{i}.dcm"): "cleaned" for i in range(3)},
        str(case / "us.dcm"): "needs review",
        str(case / "broken" / "truncated.dcm"): "failed",
        str(case / "broken" / "garbage.dcm"): "failed",
        str(case / "notes.txt"): "failed",
        str(case / "DICOMDIR"): "skipped",
        str(case / "photo.png"): "cleaned",
        f"{archive}!second/IM0.dcm": "cleaned",
        f"{archive}!second/IM1.dcm": "cleaned",
        f"{archive}!../escape.dcm": "failed",
    }
    assert lines[-1] == "6 cleaned, 1 need review, 4 failed, 1 skipped"
    assert error is not None and "4 file(s) failed" in str(error)


def _dicom_path(datasets) -> set[Path]:
    """Where the command files these (original) datasets: folders named from
    the de-identified Study/Series UIDs, files from the SOP Instance UID."""

    def short(uid: str) -> str:
        return hashlib.sha256(map_uid(KEY, uid).encode()).hexdigest()[:12]

    return {
        Path(f"study-{short(ds.StudyInstanceUID)}")
        / f"series-{short(ds.SeriesInstanceUID)}"
        / f"{map_uid(KEY, ds.SOPInstanceUID)}.dcm"
        for ds in datasets
    }


def test_outputs_are_named_from_deidentified_uids_not_from_the_inputs(
    case_folder, tmp_path
):
    out = tmp_path / "out"
    series, zipped = case_folder["series"], case_folder["zipped"]

    _run(
        str(case_folder["case"]),
        str(case_folder["archive"]),
        "--out",
        str(out),
        "--key",
        KEY_HEX,
    )

    files = _files(out)
    (us,) = files - _dicom_path(series) - _dicom_path(zipped) - {Path("image-0001.png")}
    assert files == _dicom_path(series) | _dicom_path(zipped) | {
        us,
        Path("image-0001.png"),
    }
    assert us.parts[0].startswith("study-") and us.name.startswith("2.25.")
    assert not (tmp_path / "escape.dcm").exists()
    assert not (tmp_path / "in" / "escape.dcm").exists()


def _tokens(*paths: Path) -> set[str]:
    """Every word of the input names that could identify someone."""
    words = set()
    for path in paths:
        for part in path.parts:
            words.update(re.split(r"[^A-Za-z0-9]+", Path(part).stem))
    return {w.lower() for w in words if len(w) >= 3 and not w.isdigit()}


def test_no_part_of_an_input_file_or_folder_name_reaches_an_output_path(tmp_path):
    root = tmp_path / "in" / "SMITH_JOHN_MRN4471"
    inputs = [
        factory.write(
            factory.make_ct_series(1)[0], root / "2023-06-11 CT HEAD" / "IM0001.dcm"
        ),
        factory.write(factory.make_ultrasound(), root / "Quillfeather-US.dcm"),
    ]
    photo = root / "john_smith_face.png"
    Image.fromarray(np.full((20, 30, 3), 90, dtype=np.uint8)).save(photo)
    archive = tmp_path / "in" / "Zelda Quixote.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(
            "Quixote/Zelda_scan.dcm", factory.ct_bytes(factory.make_ct_series(1)[0])
        )
        handle.writestr("Quixote/Zelda_portrait.png", photo.read_bytes())
    out = tmp_path / "out"

    lines, error = _run(str(root), str(archive), "--out", str(out))

    assert error is None, lines
    outputs = _files(out)
    assert len(outputs) == 5
    words = _tokens(
        *(p.relative_to(tmp_path / "in") for p in [*inputs, photo, archive]),
        Path("Quixote/Zelda_scan.dcm"),
        Path("Quixote/Zelda_portrait.png"),
    )
    assert {"smith", "mrn4471", "im0001", "quillfeather", "zelda", "scan"} <= words
    for path in outputs:
        assert [w for w in words if w in str(path).lower()] == [], path
    assert {p for p in outputs if p.suffix == ".png"} == {
        Path("image-0001.png"),
        Path("image-0002.png"),
    }
    # Only the printed report pairs an input with its output.
    assert any(str(photo) in line and "image-" in line for line in lines)


def test_a_second_run_into_the_same_folder_never_overwrites_other_media(tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(np.full((10, 10, 3), 10, dtype=np.uint8)).save(first)
    Image.fromarray(np.full((10, 10, 3), 240, dtype=np.uint8)).save(second)
    out = tmp_path / "out"

    _run(str(first), "--out", str(out))
    _run(str(second), "--out", str(out))

    assert _files(out) == {Path("image-0001.png"), Path("image-0002.png")}
    means = [np.asarray(Image.open(out / f"image-000{n}.png")).mean() for n in (1, 2)]
    assert means[0] < 50 < 200 < means[1]


def test_no_planted_identifier_survives_in_any_output_file(case_folder, tmp_path):
    out = tmp_path / "out"

    _run(str(case_folder["case"]), str(case_folder["archive"]), "--out", str(out))

    planted = [v.encode() for v in factory.PLANTED.values()]
    planted += [u.encode() for u in case_folder["uids"]]
    for path in out.rglob("*.dcm"):
        raw = path.read_bytes()
        assert [p for p in planted if p in raw] == [], path


def test_series_written_by_the_command_keep_their_references(case_folder, tmp_path):
    out = tmp_path / "out"

    _run(str(case_folder["case"] / "series"), "--out", str(out))

    cleaned = [pydicom.dcmread(p) for p in sorted(out.rglob("*.dcm"))]
    instances = {ds.SOPInstanceUID for ds in cleaned}
    assert len({ds.SeriesInstanceUID for ds in cleaned}) == 1
    assert {
        ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID for ds in cleaned
    } == instances


def test_clean_run_exits_zero_and_the_same_key_gives_the_same_files(tmp_path):
    for index, ds in enumerate(factory.make_ct_series(2)):
        factory.write(ds, tmp_path / "in" / f"{index}.dcm")

    first, first_error = _run(
        str(tmp_path / "in"), "--out", str(tmp_path / "a"), "--key", KEY_HEX
    )
    _, second_error = _run(
        str(tmp_path / "in"), "--out", str(tmp_path / "b"), "--key", KEY_HEX
    )
    _, random_error = _run(str(tmp_path / "in"), "--out", str(tmp_path / "c"))

    assert first_error is second_error is random_error is None
    assert first[-1] == "2 cleaned, 0 need review, 0 failed, 0 skipped"
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    assert _files(tmp_path / "a").isdisjoint(_files(tmp_path / "c"))


def test_date_shift_option_shifts_dicom_dates(tmp_path):
    ds = factory.make_ct_series(1)[0]
    factory.write(ds, tmp_path / "in" / "ct.dcm")

    _run(
        str(tmp_path / "in" / "ct.dcm"),
        "--out",
        str(tmp_path / "out"),
        "--date-shift",
        "-10",
    )

    (written,) = (tmp_path / "out").rglob("*.dcm")
    cleaned = pydicom.dcmread(written)
    assert cleaned.StudyDate == "20230601"  # 2023-06-11 minus 10 days
    assert cleaned.LongitudinalTemporalInformationModified == "MODIFIED"


def test_output_folder_inside_the_input_is_not_read_back(tmp_path):
    source = tmp_path / "in"
    factory.write(factory.make_ct_series(1)[0], source / "ct.dcm")

    lines, error = _run(str(source), "--out", str(source / "clean"))

    assert error is None
    assert lines[-1].startswith("1 cleaned")


@pytest.mark.parametrize("key", ["not-hex", "abcd"])
def test_bad_key_is_refused_before_anything_is_written(key, tmp_path):
    factory.write(factory.make_ct_series(1)[0], tmp_path / "in" / "ct.dcm")

    with pytest.raises(CommandError, match="--key"):
        call_command(
            "deidentify",
            str(tmp_path / "in"),
            "--out",
            str(tmp_path / "out"),
            "--key",
            key,
        )

    assert not (tmp_path / "out").exists()


# --- faces in photos and videos -------------------------------------------------------


def _face_folder(tmp_path: Path) -> Path:
    from tests.fixtures import media_factory as mf

    root = tmp_path / "in"
    root.mkdir()
    mf.write_jpeg(
        root / "selfie.jpg",
        orientation=1,
        displayed=mf.face_picture(size=(480, 360), face=(150, 60, 220, 220)),
    )
    Image.open(mf.DATA / "coffee.jpg").save(root / "coffee.jpg")
    return root


def _written(line: str) -> Path:
    """The output file a report line names."""
    if line.startswith("cleaned "):
        return Path(line.split(" -> ", 1)[1].split(" (", 1)[0])
    return Path(line.rsplit("written to ", 1)[1])


def _faces_left(path: Path) -> list:
    from media_handling.faces import detect_faces

    with Image.open(path) as opened:
        return detect_faces(opened.convert("RGB"))


def test_a_photo_with_a_face_is_blurred_before_it_is_reported_cleaned(tmp_path):
    root = _face_folder(tmp_path)
    out = tmp_path / "out"

    lines, error = _run(str(root), "--out", str(out))

    assert error is None
    selfie = next(line for line in lines if "selfie" in line)
    assert selfie.startswith("cleaned ") and selfie.endswith("(1 face(s) blurred)")
    assert _written(selfie).is_relative_to(out)
    assert _faces_left(_written(selfie)) == []
    coffee = next(line for line in lines if "coffee" in line)
    assert coffee.startswith("cleaned ") and not coffee.endswith(")")


def test_with_keep_faces_a_photo_with_a_face_needs_review_not_cleaned(tmp_path):
    root = _face_folder(tmp_path)
    out = tmp_path / "out"

    lines, error = _run(str(root), "--out", str(out), "--keep-faces")

    assert error is None
    selfie = next(line for line in lines if "selfie" in line)
    assert selfie.startswith("needs review: ")
    assert "1 face(s) detected and left sharp" in selfie
    assert len(_faces_left(_written(selfie))) == 1
    assert lines[-1] == "1 cleaned, 1 need review, 0 failed, 0 skipped"


def test_a_video_with_a_face_is_blurred_on_every_frame_before_cleaned(tmp_path):
    from media_handling.deid.video import display_frames
    from media_handling.faces import detect_faces
    from tests.fixtures import media_factory as mf

    root = tmp_path / "in"
    root.mkdir()
    frames, _ = mf.panning_face_frames(size=(320, 240), side=120, seconds=2.0)
    mf.write_video(
        root / "clip.mp4", size=(320, 240), fps=10, seconds=2.0, frames=frames
    )
    out = tmp_path / "out"

    lines, error = _run(str(root), "--out", str(out))

    assert error is None
    assert lines[0].startswith("cleaned ") and "face(s) blurred" in lines[0]
    for _, image in display_frames(_written(lines[0]), every_s=0.2):
        assert detect_faces(image) == []


def test_a_face_that_survives_blurring_is_reported_for_review(tmp_path, monkeypatch):
    from media_handling.management.commands import deidentify

    root = _face_folder(tmp_path)
    (root / "coffee.jpg").unlink()
    monkeypatch.setattr(deidentify, "_blur", lambda path, kind, found: None)

    lines, _ = _run(str(root), "--out", str(tmp_path / "out"))

    assert lines[0].startswith("needs review: ")
    assert "still detected after blurring" in lines[0]
