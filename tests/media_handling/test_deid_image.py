"""clean_image keeps pixels only; make_renditions makes small clean copies."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import ExifTags, Image

from media_handling.deid.image import clean_image, make_renditions
from media_handling.faces import Rect, detect_faces
from media_handling.sniff import MediaError
from tests.fixtures import media_factory as mf

IMAGE_PLANTED = {
    k: v for k, v in mf.PLANTED.items() if not k.startswith(("png_", "iptc", "jpeg_"))
}


def _colour_at(image: Image.Image, x: float, y: float) -> tuple[int, int, int]:
    return image.convert("RGB").getpixel((int(x * image.width), int(y * image.height)))


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


def _assert_no_metadata(image: Image.Image) -> None:
    assert len(image.getexif()) == 0
    assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo) == {}
    for key in ("exif", "xmp", "icc_profile", "comment", "photoshop", "dpi"):
        assert key not in image.info


def test_jpeg_keeps_none_of_the_planted_identifiers_anywhere_in_its_bytes(tmp_path):
    # Given a JPEG with EXIF, GPS, a thumbnail, XMP, IPTC and a comment
    source = mf.write_jpeg(tmp_path / "photo.jpg")
    assert set(mf.planted_found(source.read_bytes())) >= set(IMAGE_PLANTED) | {
        "iptc_byline",
        "jpeg_comment",
    }

    # When
    clean_image(source, tmp_path / "clean.jpg")

    # Then no planted value is left in the stored bytes
    assert mf.planted_found((tmp_path / "clean.jpg").read_bytes()) == []


def test_cleaned_jpeg_decodes_with_no_exif_gps_xmp_comment_or_profile(tmp_path):
    source = mf.write_jpeg(tmp_path / "photo.jpg")

    clean_image(source, tmp_path / "clean.jpg")

    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert cleaned.format == "JPEG"
        _assert_no_metadata(cleaned)
        assert [marker for marker, _ in cleaned.applist] == ["APP0"]  # JFIF only


def test_report_names_everything_that_was_removed_without_repeating_values(tmp_path):
    source = mf.write_jpeg(tmp_path / "photo.jpg")

    report = clean_image(source, tmp_path / "clean.jpg")

    assert {"GPSLatitude", "GPSLongitude", "GPSLatitudeRef"} <= set(report.gps_tags)
    assert {
        "Artist",
        "BodySerialNumber",
        "CameraOwnerName",
        "DateTimeOriginal",
        "ImageDescription",
        "Make",
        "Model",
        "UserComment",
    } <= set(report.exif_tags)
    assert report.makernote and report.exif_thumbnail
    assert report.xmp and report.iptc
    assert report.comments == 1
    assert report.icc == "sRGB, dropped"
    assert "APP13 Photoshop/IPTC" in report.segments
    assert report.source_mime == report.mime == "image/jpeg"
    assert mf.planted_found(json.dumps(report.as_dict()).encode()) == []
    assert "GPS location (5 tags)" in report.removed()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_the_pixels(tmp_path, orientation):
    # Given a camera that stored the picture turned, with an orientation tag
    upright = mf.quadrants(48, 64)
    source = mf.write_jpeg(
        tmp_path / "photo.jpg", orientation=orientation, displayed=upright
    )

    # When
    report = clean_image(source, tmp_path / "clean.jpg")

    # Then the output shows the picture upright, with no tag left to apply
    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert cleaned.size == (48, 64)
        for x, y, colour in [
            (0.25, 0.25, mf.RED),
            (0.75, 0.25, mf.GREEN),
            (0.25, 0.75, mf.BLUE),
        ]:
            assert _close(_colour_at(cleaned, x, y), colour)
        assert ExifTags.Base.Orientation not in cleaned.getexif()
    assert report.orientation == orientation
    assert report.orientation_applied is (orientation != 1)
    assert (report.width, report.height) == (48, 64)


def test_png_loses_its_text_chunks_and_stays_a_lossless_png(tmp_path):
    source = mf.write_png(tmp_path / "scan.png")

    report = clean_image(source, tmp_path / "clean.png")

    data = (tmp_path / "clean.png").read_bytes()
    assert mf.planted_found(data) == []
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf"):
        assert chunk not in data
    with Image.open(tmp_path / "clean.png") as cleaned, Image.open(source) as original:
        assert cleaned.format == "PNG"
        assert cleaned.text == {}
        _assert_no_metadata(cleaned)
        assert np.array_equal(np.asarray(cleaned), np.asarray(original.convert("RGB")))
    assert report.text_keys == ("Author", "Comment", "Description")
    assert report.xmp and report.gps_tags


def test_png_with_transparency_keeps_its_alpha(tmp_path):
    source = mf.write_png(tmp_path / "overlay.png", alpha=True)

    report = clean_image(source, tmp_path / "clean.png")

    with Image.open(tmp_path / "clean.png") as cleaned:
        assert cleaned.mode == "RGBA"
        assert cleaned.getchannel("A").getextrema() != (255, 255)
    assert report.mime == "image/png"


@pytest.mark.parametrize(
    ("write", "mime"), [(mf.write_webp, "image/webp"), (mf.write_heic, "image/heic")]
)
def test_webp_and_heic_become_clean_jpegs(tmp_path, write, mime):
    source = write(tmp_path / "upload")
    assert mf.planted_found(source.read_bytes())

    report = clean_image(source, tmp_path / "clean.jpg")

    assert mf.planted_found((tmp_path / "clean.jpg").read_bytes()) == []
    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert cleaned.format == "JPEG"
        _assert_no_metadata(cleaned)
        assert _close(_colour_at(cleaned, 0.25, 0.25), mf.RED)
    assert (report.source_mime, report.mime) == (mime, "image/jpeg")
    assert report.gps_tags and report.xmp


def test_heic_orientation_is_applied_once(tmp_path):
    # pillow-heif turns HEIF pictures upright while decoding; applying the
    # EXIF tag again would rotate them twice.
    upright = mf.quadrants(48, 64)
    upright.transpose(Image.Transpose.ROTATE_90).save(
        tmp_path / "turned.heic", format="HEIF", exif=mf.exif_blob(orientation=6)
    )

    report = clean_image(tmp_path / "turned.heic", tmp_path / "clean.jpg")

    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert cleaned.size == (48, 64)
        assert _close(_colour_at(cleaned, 0.25, 0.25), mf.RED)
        assert _close(_colour_at(cleaned, 0.75, 0.25), mf.GREEN)
    assert report.orientation == 6


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(tmp_path / "print.jpg")

    clean_image(tmp_path / "print.jpg", tmp_path / "clean.jpg")

    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert cleaned.mode == "RGB"
        assert _close(cleaned.getpixel((16, 16)), mf.RED)


def test_sixteen_bit_greyscale_png_keeps_its_depth(tmp_path):
    ramp = (np.arange(64 * 16, dtype=np.uint16).reshape(16, 64) * 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "xray.png")

    clean_image(tmp_path / "xray.png", tmp_path / "clean.png")

    with Image.open(tmp_path / "clean.png") as cleaned:
        assert np.array_equal(np.asarray(cleaned).astype(np.uint16), ramp)


def test_only_the_first_frame_of_an_animation_is_kept(tmp_path):
    frames = [Image.new("RGB", (16, 16), colour) for colour in (mf.RED, mf.BLUE)]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:])

    report = clean_image(tmp_path / "anim.webp", tmp_path / "clean.jpg")

    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert getattr(cleaned, "n_frames", 1) == 1
        assert _close(cleaned.getpixel((8, 8)), mf.RED)
    assert report.frames == 2


def test_the_sniffed_type_wins_over_a_lying_extension(tmp_path):
    source = mf.write_png(tmp_path / "photo.jpg")

    report = clean_image(source, tmp_path / "clean")

    assert report.source_mime == "image/png"
    assert (report.mime, report.ext) == ("image/png", "png")
    assert (tmp_path / "clean").read_bytes().startswith(b"\x89PNG")


def test_faces_given_as_rects_are_blurred_and_nothing_else_changes(tmp_path):
    board = Image.fromarray(mf.checkerboard(96, 64, cell=2))
    board.save(tmp_path / "board.png")
    face = Rect(20, 10, 30, 30)

    report = clean_image(tmp_path / "board.png", tmp_path / "clean.png", faces=[face])

    before = np.asarray(board).astype(int)
    with Image.open(tmp_path / "clean.png") as cleaned:
        after = np.asarray(cleaned).astype(int)
    inside = np.zeros(before.shape[:2], bool)
    inside[face.y : face.bottom, face.x : face.right] = True
    assert (after[~inside] == before[~inside]).all()
    assert after[inside].std() < 10 < before[inside].std()
    assert report.faces_blurred == 1


def test_a_detected_face_blurred_by_clean_image_is_no_longer_found(tmp_path):
    picture = mf.face_picture()
    picture.save(tmp_path / "face.jpg", quality=95)
    found = detect_faces(picture)
    assert found

    clean_image(tmp_path / "face.jpg", tmp_path / "clean.jpg", faces=found)

    with Image.open(tmp_path / "clean.jpg") as cleaned:
        assert detect_faces(cleaned) == []


def test_an_empty_file_is_rejected_and_nothing_is_written(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")

    with pytest.raises(MediaError, match="empty"):
        clean_image(tmp_path / "empty.jpg", tmp_path / "clean.jpg")
    assert not (tmp_path / "clean.jpg").exists()


@pytest.mark.parametrize("write", [mf.write_jpeg, mf.write_png])
def test_a_truncated_image_is_rejected_and_nothing_is_written(tmp_path, write):
    whole = write(tmp_path / "whole")
    cut = mf.truncated_copy(whole, tmp_path / "cut", keep=0.6)

    with pytest.raises(MediaError, match="damaged or incomplete"):
        clean_image(cut, tmp_path / "clean")
    assert set(tmp_path.iterdir()) == {whole, cut}


def test_a_corrupt_image_is_rejected(tmp_path):
    data = bytearray(mf.write_png(tmp_path / "scan.png").read_bytes())
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\xff" * 40
    (tmp_path / "corrupt.png").write_bytes(bytes(data))

    with pytest.raises(MediaError):
        clean_image(tmp_path / "corrupt.png", tmp_path / "clean.png")
    assert not (tmp_path / "clean.png").exists()


def test_a_decompression_bomb_is_rejected_before_decoding(tmp_path):
    # Given 69 bytes that claim 60,000 x 60,000 pixels
    bomb = mf.write_png_bomb(tmp_path / "bomb.png")

    with pytest.raises(MediaError, match="Image too large"):
        clean_image(bomb, tmp_path / "clean.png")


def test_an_image_over_the_explicit_pixel_limit_is_rejected(tmp_path):
    source = mf.write_jpeg(tmp_path / "photo.jpg")

    with pytest.raises(MediaError, match=r"Image too large: 64x48 pixels"):
        clean_image(source, tmp_path / "clean.jpg", max_pixels=1000)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (mf.write_gif, r"Unsupported file type \(image/gif\)"),
        (mf.write_phone_mp4, "Not a supported image"),
    ],
)
def test_files_that_are_not_supported_images_are_rejected(tmp_path, make, message):
    source = make(tmp_path / "upload")

    with pytest.raises(MediaError, match=message):
        clean_image(source, tmp_path / "clean.jpg")


def test_renditions_fit_their_sizes_and_carry_no_metadata(tmp_path):
    # Given a cleaned 2000x1500 photo
    Image.fromarray(mf.checkerboard(2000, 1500, cell=50)).save(tmp_path / "clean.jpg")

    # When
    made = make_renditions(tmp_path / "clean.jpg", tmp_path / "renditions")

    # Then
    assert set(made) == {"thumb", "display"}
    with Image.open(made["thumb"]) as thumb, Image.open(made["display"]) as display:
        assert thumb.format == display.format == "JPEG"
        assert thumb.size == (320, 240)
        assert display.size == (1600, 1200)
        _assert_no_metadata(display)
    assert made["thumb"] == tmp_path / "renditions" / "thumb.jpg"


def test_renditions_never_upscale_and_use_webp_for_transparency(tmp_path):
    image = mf.quadrants(100, 80)
    image.putalpha(128)
    image.save(tmp_path / "clean.png")

    made = make_renditions(
        tmp_path / "clean.png", lambda name, ext: tmp_path / f"r-{name}.{ext}"
    )

    with Image.open(made["display"]) as display:
        assert display.format == "WEBP"
        assert display.size == (100, 80)
        assert display.mode == "RGBA"
    assert made["thumb"] == tmp_path / "r-thumb.webp"


def test_sixteen_bit_renditions_keep_the_top_eight_bits(tmp_path):
    ramp = np.linspace(0, 65535, 64, dtype=np.uint16)[None, :].repeat(8, axis=0)
    Image.fromarray(ramp).save(tmp_path / "clean.png")

    made = make_renditions(tmp_path / "clean.png", tmp_path)

    with Image.open(made["display"]) as display:
        row = np.asarray(display.convert("L"))[4]
        assert row[0] < 10 and row[-1] > 245
