"""DICOM frame rendering for the viewer: presets, windowing, PNGs, header."""

from __future__ import annotations

import copy
import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from media_handling.deid.dicom import DicomDeidOptions, deidentify_dataset
from media_handling.dicom_render import (
    CT_PRESETS,
    Preset,
    frame_count,
    header_summary,
    render_frame,
    window_presets,
)
from tests.fixtures import dicom_factory as factory


def _png(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return np.asarray(image)


def _ct(values: np.ndarray) -> pydicom.Dataset:
    ds = factory.make_ct_series(
        1, plant=False, rows=values.shape[0], cols=values.shape[1]
    )[0]
    ds.PixelData = values.astype(np.int16).tobytes()
    return ds


def test_ct_presets_follow_the_files_own_windows_with_their_explanations():
    ds = factory.make_ct_series(1, plant=False)[0]
    ds.WindowCenter = ["40", "-500"]
    ds.WindowWidth = ["400", "1400"]
    ds.WindowCenterWidthExplanation = ["MEDIASTINUM", "LUNG"]

    presets = window_presets(ds)

    assert presets[:2] == [Preset("MEDIASTINUM", 40, 400), Preset("LUNG", -500, 1400)]
    # Soft tissue 40/400 is already the file's first window: not repeated.
    assert presets[2:] == [p for p in CT_PRESETS if p.name != "Soft tissue"]


def test_presets_come_from_functional_groups_and_only_ct_gets_standard_ones():
    enhanced = factory.make_enhanced_multiframe()
    enhanced.Modality = "MR"

    assert window_presets(enhanced) == [Preset("File window 1", 50, 350)]


def test_window_maps_center_and_width_linearly_onto_0_255():
    # Stored values v give HU v - 1024 (the factory's rescale).
    hu = np.array([[-1000, -160], [40, 240], [241, 3000]])
    ds = _ct(hu + 1024)

    out = _png(render_frame(ds, 0, center=40, width=400))

    assert out.tolist() == [[0, 0], [128, 255], [255, 255]]


def test_default_window_is_the_files_first_window():
    hu = np.array([[-1000, 40], [240, 100]])
    ds = _ct(hu + 1024)

    assert np.array_equal(
        _png(render_frame(ds, 0)), _png(render_frame(ds, 0, center=40, width=400))
    )


def test_monochrome1_renders_inverted():
    ds = factory.make_monochrome8(modality="CR")
    inverted = copy.deepcopy(ds)
    inverted.PhotometricInterpretation = "MONOCHROME1"

    normal = _png(render_frame(ds, 0, center=128, width=256))
    flipped = _png(render_frame(inverted, 0, center=128, width=256))

    assert np.array_equal(flipped, 255 - normal)


def test_rgb_frames_pass_through_unchanged_and_each_frame_renders_its_own_pixels():
    ds = factory.make_ultrasound(frames=3)
    frames = ds.pixel_array

    rendered = [_png(render_frame(ds, index)) for index in range(frame_count(ds))]

    assert frame_count(ds) == 3
    for index, image in enumerate(rendered):
        assert np.array_equal(image, frames[index])


def test_multiframe_grayscale_renders_the_requested_frame():
    ds = factory.make_enhanced_multiframe(frames=4)

    first, last = _png(render_frame(ds, 0)), _png(render_frame(ds, 3))

    assert first.shape == (12, 10)
    assert not np.array_equal(first, last)


def test_compressed_frames_render():
    ds = factory.compress_jpeg_baseline(factory.make_rgb_secondary_capture())

    image = _png(render_frame(ds, 0))

    assert image.shape == (20, 20, 3)
    assert np.abs(image.astype(int) - ds.pixel_array.astype(int)).max() == 0


def test_max_size_bounds_the_longer_side_and_keeps_the_aspect():
    ds = factory.make_ultrasound(rows=24, cols=32)

    image = Image.open(io.BytesIO(render_frame(ds, 0, max_size=16)))

    assert image.size == (16, 12)


def test_palette_colour_renders_as_rgb():
    ds = pydicom.dcmread(get_testdata_file("examples_palette.dcm", download=False))

    image = _png(render_frame(ds, 0, max_size=64))

    assert image.ndim == 3 and image.shape[2] == 3


def test_missing_frame_is_an_index_error():
    ds = factory.make_ct_series(1, plant=False)[0]

    with pytest.raises(IndexError):
        render_frame(ds, 1)


def test_header_summary_is_readable_and_skips_pixels_binary_and_private():
    ds = factory.make_ct_series(1)[0]
    deidentify_dataset(ds, options=DicomDeidOptions(uid_key=b"k" * 32))
    ds.add_new(0x00091010, "LO", "vendor secret")  # private, added after cleaning

    rows = header_summary(ds)

    by_keyword = {keyword: (name, value) for keyword, name, value in rows}
    assert by_keyword["PatientName"] == ("Patient's Name", "ANONYMOUS")
    assert by_keyword["PixelSpacing"][1] == "0.7\\0.7"
    assert by_keyword["ReferencedImageSequence"][1] == "1 item"
    assert "PixelData" not in by_keyword
    assert all("vendor secret" not in value for _, _, value in rows)


def test_header_summary_shows_emptied_attributes_as_empty_not_none():
    ds = factory.make_ct_series(1)[0]
    deidentify_dataset(ds, options=DicomDeidOptions(uid_key=b"k" * 32))

    by_keyword = {keyword: value for keyword, _, value in header_summary(ds)}

    assert by_keyword["StudyDate"] == ""  # type 2: emptied, not removed
    assert "None" not in by_keyword.values()
