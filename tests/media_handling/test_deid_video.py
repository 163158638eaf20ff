"""clean_video writes a new MP4 holding pictures and sound, and nothing else."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from PIL import Image

from media_handling.deid.video import (
    box_times,
    clean_video,
    display_frames,
    mp4_metadata_problems,
    poster_frame,
    probe_video,
    read_mp4_boxes,
)
from media_handling.faces import FaceTrack, Rect, detect_faces, detect_faces_in_video
from media_handling.sniff import MediaError
from tests.fixtures import media_factory as mf

ENCODER_STRINGS = (b"x264", b"Lavf", b"Lavc", b"libavformat", b"GoPro")


@pytest.fixture(scope="module")
def phone_mp4(tmp_path_factory):
    """A phone-like MP4 and its cleaned copy, made once for the module."""
    folder = tmp_path_factory.mktemp("phone")
    source = mf.write_phone_mp4(folder / "source.mp4")
    report = clean_video(source, folder / "clean.mp4")
    return source, folder / "clean.mp4", report


@pytest.mark.parametrize(
    "write",
    [mf.write_phone_mp4, mf.write_phone_mov, mf.write_webm],
    ids=["mp4", "mov", "webm"],
)
def test_no_planted_value_or_encoder_string_survives(tmp_path, write):
    # Given a video full of identifiers (and, for H.264, x264's SEI message)
    source = write(tmp_path / "source")
    planted = mf.planted_found(source.read_bytes(), mf.VIDEO_PLANTED)
    assert len(planted) >= 4

    # When
    clean_video(source, tmp_path / "clean.mp4")

    # Then none of it is anywhere in the stored bytes
    data = (tmp_path / "clean.mp4").read_bytes()
    assert mf.planted_found(data, mf.VIDEO_PLANTED) == []
    assert [s for s in ENCODER_STRINGS if s in data] == []


def test_creation_and_modification_times_are_zero_in_every_header_box(phone_mp4):
    source, clean, _ = phone_mp4
    timed = {b"mvhd", b"tkhd", b"mdhd"}
    assert all(
        box_times(b) != (0, 0) for b in read_mp4_boxes(source) if b.type in timed
    )

    boxes = [b for b in read_mp4_boxes(clean) if b.type in timed]

    # mvhd, and a tkhd and an mdhd for each of the two tracks
    assert len(boxes) == 5
    assert {box_times(b) for b in boxes} == {(0, 0)}


def test_output_holds_one_h264_and_one_aac_stream_and_no_metadata(phone_mp4):
    _, clean, _ = phone_mp4

    with av.open(str(clean)) as container:
        streams = [(s.type, s.codec_context.name) for s in container.streams]
        container_tags = set(container.metadata)
        stream_tags = {k: v for s in container.streams for k, v in s.metadata.items()}
        assert container.streams.video[0].codec_context.pix_fmt == "yuv420p"

    assert streams == [("video", "h264"), ("audio", "aac")]
    assert container_tags <= {"major_brand", "minor_version", "compatible_brands"}
    assert set(stream_tags) <= {"language", "handler_name", "vendor_id"}
    assert set(stream_tags.get("handler_name", "")) <= set("VideoHandlerSound")


def test_output_has_no_location_keys_or_data_track_boxes(phone_mp4):
    source, clean, _ = phone_mp4
    assert {b"loci", b"keys"} <= {b.type for b in read_mp4_boxes(source)}

    types = {b.type for b in read_mp4_boxes(clean)}
    handlers = [
        b.payload[8:12] for b in read_mp4_boxes(clean) if b.path.endswith("mdia/hdlr")
    ]

    assert not types & {b"loci", b"\xa9xyz", b"keys", b"uuid", b"gmhd", b"tref"}
    assert handlers == [b"vide", b"soun"]
    assert mp4_metadata_problems(clean) == []


def test_the_metadata_check_lists_what_a_phone_video_carries(phone_mp4):
    source, _, _ = phone_mp4

    problems = mp4_metadata_problems(source)

    assert "moov/mvhd carries a timestamp" in problems
    assert "a track of type 'meta'" in problems
    assert "unexpected box moov/udta/loci" in problems
    assert "unexpected box moov/udta/meta/keys" in problems


def test_report_names_dropped_streams_and_removed_tags_but_no_values(phone_mp4):
    _, _, report = phone_mp4

    assert report.streams_dropped == ("data #2 (data:bin_data)",)
    assert {"creation_time", "location", "title", "com.apple.quicktime.make"} <= set(
        report.metadata_removed
    )
    assert "stream 0: handler_name" in report.metadata_removed
    assert (report.video_codec, report.audio_codec) == ("h264", "aac")
    assert report.source.codecs == ("h264", "aac", "data:bin_data")
    assert report.frames == 15
    assert report.duration == pytest.approx(1.0)
    assert (
        mf.planted_found(json.dumps(report.as_dict()).encode(), mf.VIDEO_PLANTED) == []
    )


def _quadrant_colours(image: Image.Image) -> list[tuple[int, int, int]]:
    w, h = image.size
    return [image.getpixel((x * w // 4, y * h // 4)) for y in (1, 3) for x in (1, 3)]


def _close(a, b, tolerance=60) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a, b, strict=True))


@pytest.mark.parametrize(("ccw", "clockwise"), [(90, 270), (-90, 90), (180, 180)])
def test_the_display_rotation_is_applied_to_the_pictures(tmp_path, ccw, clockwise):
    # Given a clip stored landscape with a display matrix that turns it
    source = mf.write_video(
        tmp_path / "turned.mp4", size=(64, 48), rotation=ccw, audio=False
    )
    expected = mf.quadrants(64, 48).rotate(ccw, expand=True)
    info = probe_video(source)
    assert (info.width, info.height, info.rotation) == (*expected.size, clockwise)

    # When
    report = clean_video(source, tmp_path / "clean.mp4")

    # Then the cleaned pictures are upright and need no matrix
    with av.open(str(tmp_path / "clean.mp4")) as container:
        frame = next(container.decode(video=0))
        assert frame.rotation == 0
        picture = frame.to_image()
    assert picture.size == expected.size
    for got, want in zip(
        _quadrant_colours(picture), _quadrant_colours(expected), strict=True
    ):
        assert _close(got, want)
    assert report.rotation_applied == clockwise


def test_a_mirroring_display_matrix_is_applied_too(tmp_path):
    path = tmp_path / "selfie.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=15)
        stream.codec_context.width, stream.codec_context.height = 64, 48
        stream.codec_context.pix_fmt = "yuv420p"
        stream.set_display_rotation(0, hflip=True)
        picture = av.VideoFrame.from_image(mf.quadrants(64, 48))
        for i in range(5):
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))

    clean_video(path, tmp_path / "clean.mp4")

    with av.open(str(tmp_path / "clean.mp4")) as container:
        picture = next(container.decode(video=0)).to_image()
    expected = mf.quadrants(64, 48).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for got, want in zip(
        _quadrant_colours(picture), _quadrant_colours(expected), strict=True
    ):
        assert _close(got, want)


def test_large_videos_are_scaled_to_max_side_keeping_the_aspect(tmp_path):
    source = mf.write_video(
        tmp_path / "big.mp4", size=(320, 240), audio=False, seconds=0.4
    )

    report = clean_video(source, tmp_path / "clean.mp4", max_side=160)

    assert (report.width, report.height) == (160, 120)
    assert (probe_video(tmp_path / "clean.mp4").width, report.source.width) == (
        160,
        320,
    )


def test_faces_are_blurred_on_every_frame_where_the_track_says(tmp_path):
    # Given a fine checkerboard clip and a face moving from left to right
    width, height, fps = 96, 64, 10
    board = mf.checkerboard(width, height, cell=2)
    source = mf.write_video(
        tmp_path / "board.mp4",
        size=(width, height),
        fps=fps,
        seconds=2.0,
        frames=lambda i, t: board,
        audio=False,
        x264_options={"crf": "10"},
    )
    face = ((0.0, Rect(4, 20, 24, 24)), (1.9, Rect(68, 20, 24, 24)))
    track = FaceTrack((face,), padding=0.0)

    # When
    report = clean_video(source, tmp_path / "clean.mp4", faces=track)

    # Then inside the rect of the moment the detail is gone, elsewhere it stays
    assert report.frames_blurred == report.frames == 20
    with av.open(str(tmp_path / "clean.mp4")) as container:
        for frame in container.decode(video=0):
            pixels = np.asarray(frame.to_image().convert("L")).astype(float)
            rect = track.rects_at(frame.time)[0]
            inner = pixels[rect.y + 3 : rect.bottom - 3, rect.x + 3 : rect.right - 3]
            far_x = 68 if rect.x < 40 else 4
            far = pixels[rect.y + 3 : rect.bottom - 3, far_x + 3 : far_x + 21]
            assert inner.std() < 15, frame.time
            assert far.std() > 60, frame.time


def test_detected_faces_are_found_again_in_video_and_then_blurred_away(tmp_path):
    # Given a clip of a face drifting right
    def picture(i: int, t: float) -> np.ndarray:
        image = Image.new("RGB", (240, 160), (60, 90, 120))
        mf.draw_face(image, (20 + 40 * int(t), 20, 110, 110))
        return np.asarray(image)

    source = mf.write_video(
        tmp_path / "face.mp4", size=(240, 160), fps=10, seconds=2.0, frames=picture
    )

    # When faces are detected every half second and blurred along their track
    found = detect_faces_in_video(source, sample_every_s=0.5)
    track = FaceTrack.from_keyframes(found, hold_s=0.5)
    clean_video(source, tmp_path / "clean.mp4", faces=track)

    # Then every sample (and the poster's frame, a third of the way in) held
    # a face where it was drawn, and none is left
    assert [t for t, _ in found] == [0.0, 0.5, 0.7, 1.0, 1.5]
    for t, rect in found:
        centre_x = 20 + 40 * int(t) + 55
        assert rect.x < centre_x < rect.right
    assert len(track.faces) == 1
    for _, image in display_frames(tmp_path / "clean.mp4", every_s=0.25):
        assert detect_faces(image) == []


def _covers(rects, truth, share=0.9) -> bool:
    x, y, w, h = truth
    for r in rects:
        iw = min(r.right, x + w) - max(r.x, x)
        ih = min(r.bottom, y + h) - max(r.y, y)
        if iw > 0 and ih > 0 and iw * ih >= share * w * h:
            return True
    return False


def test_a_face_in_a_panning_shot_is_covered_on_every_frame(tmp_path):
    # Given a real face crossing the picture at ~1.6 face widths a second
    frames, face_at = mf.panning_face_frames(size=(320, 240), side=120, seconds=2.0)
    source = mf.write_video(
        tmp_path / "pan.mp4", size=(320, 240), fps=10, seconds=2.0, frames=frames
    )

    # When it is detected every half second and tracked, as the pipeline does
    track = FaceTrack.from_keyframes(detect_faces_in_video(source, sample_every_s=0.5))
    clean_video(source, tmp_path / "clean.mp4", faces=track)

    # Then one track covers the face on every frame, samples or not...
    assert len(track.faces) == 1
    for i in range(20):
        assert _covers(track.rects_at(i / 10), face_at(i / 10)), i
    # ...and no face is left to find in the cleaned video
    for _, image in display_frames(tmp_path / "clean.mp4", every_s=0.1):
        assert detect_faces(image) == []


def test_display_frames_samples_upright_pictures(tmp_path):
    source = mf.write_video(
        tmp_path / "turned.mp4", rotation=90, audio=False, seconds=1.0
    )

    sampled = list(display_frames(source, every_s=0.3))

    assert [round(t, 2) for t, _ in sampled] == [0.0, 0.33, 0.6, 0.93]
    assert {image.size for _, image in sampled} == {(48, 64)}


def test_poster_frame_is_an_upright_jpeg_without_metadata(tmp_path):
    source = mf.write_phone_mp4(tmp_path / "phone.mp4", rotation=-90)

    size = poster_frame(source, tmp_path / "poster.jpg")

    with Image.open(tmp_path / "poster.jpg") as poster:
        assert poster.format == "JPEG"
        assert poster.size == size == (48, 64)
        assert len(poster.getexif()) == 0
        expected = mf.quadrants(64, 48).rotate(-90, expand=True)
        assert _close(
            _quadrant_colours(poster.convert("RGB"))[0], _quadrant_colours(expected)[0]
        )


def test_probe_reports_duration_size_and_streams(tmp_path):
    source = mf.write_webm(tmp_path / "clip.webm")

    info = probe_video(source)

    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.codecs == ("vp8", "opus")
    assert info.has_audio
    assert info.frame_rate == pytest.approx(15)


def test_a_truncated_faststart_video_is_rejected_as_incomplete(phone_mp4, tmp_path):
    # A faststart file keeps its index first, so the cut loses frames only.
    _, clean, _ = phone_mp4
    cut = mf.truncated_copy(clean, tmp_path / "cut.mp4", keep=0.6)

    with pytest.raises(MediaError, match="incomplete"):
        clean_video(cut, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    assert not (tmp_path / "out.mp4.part").exists()


def test_a_truncated_webm_is_rejected_as_incomplete(tmp_path):
    # WebM declares no frame count, only a duration that the cut file misses.
    source = mf.write_webm(tmp_path / "clip.webm", seconds=3.0)
    cut = mf.truncated_copy(source, tmp_path / "cut.webm", keep=0.5)

    with pytest.raises(MediaError, match=r"incomplete: it declares 3\.0 s"):
        clean_video(cut, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_a_video_cut_before_its_index_is_rejected(phone_mp4, tmp_path):
    source, _, _ = phone_mp4
    cut = mf.truncated_copy(source, tmp_path / "cut.mp4", keep=0.6)

    with pytest.raises(MediaError, match="damaged or incomplete"):
        clean_video(cut, tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_a_video_whose_pictures_are_garbage_is_rejected(phone_mp4, tmp_path):
    _, clean, _ = phone_mp4
    data = bytearray(clean.read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat:] = bytes(len(data) - mdat)
    (tmp_path / "zeroed.mp4").write_bytes(bytes(data))

    with pytest.raises(MediaError, match="damaged"):
        clean_video(tmp_path / "zeroed.mp4", tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (
            b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(range(256)) * 8,
            "damaged",
        ),
        (b"GIF89a" + bytes(64), r"Unsupported file type \(image/gif\)"),
    ],
    ids=["empty", "garbage-after-ftyp", "gif"],
)
def test_files_that_are_not_decodable_videos_are_rejected(tmp_path, content, message):
    (tmp_path / "upload").write_bytes(content)

    with pytest.raises(MediaError, match=message):
        clean_video(tmp_path / "upload", tmp_path / "out.mp4")


def test_a_picture_is_not_accepted_as_a_video(tmp_path):
    source = mf.write_jpeg(tmp_path / "clip.mp4")

    with pytest.raises(MediaError, match="Not a supported video"):
        probe_video(source)


def test_a_sound_only_mp4_is_rejected(tmp_path):
    path = tmp_path / "voice.mp4"
    with av.open(str(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=48000)
        mf._write_tone(out, sound, 0.2)

    with pytest.raises(MediaError, match="no video stream"):
        clean_video(path, tmp_path / "out.mp4")


def test_a_frame_size_over_the_limit_is_rejected_before_decoding(phone_mp4, tmp_path):
    source, _, _ = phone_mp4

    with pytest.raises(MediaError, match="Video too large: 64x48"):
        clean_video(source, tmp_path / "out.mp4", max_pixels=1000)
