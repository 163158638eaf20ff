"""Face detection suggests regions; blurring and tracks must be exact.

Detection is tested on a real photograph (tests/fixtures/data) and variants
of it: small, tilted, dark.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from media_handling import faces
from media_handling.faces import (
    DetectorMissing,
    FaceTrack,
    Rect,
    blur_regions,
    detect_faces,
    merge_rects,
)
from tests.fixtures import media_factory as mf

FACE = Rect(*mf.ASTRONAUT_FACE)


def _centre_inside(rect: Rect, truth: Rect) -> bool:
    cx, cy = truth.x + truth.w / 2, truth.y + truth.h / 2
    return rect.x <= cx <= rect.right and rect.y <= cy <= rect.bottom


def _covers(rect: Rect, truth: Rect, share: float = 0.9) -> bool:
    """Whether ``rect`` covers at least ``share`` of ``truth``."""
    iw = min(rect.right, truth.right) - max(rect.x, truth.x)
    ih = min(rect.bottom, truth.bottom) - max(rect.y, truth.y)
    return iw > 0 and ih > 0 and iw * ih >= share * truth.w * truth.h


def test_a_real_face_is_detected_once_and_covered():
    found = detect_faces(mf.astronaut())

    assert len(found) == 1
    assert _covers(found[0], FACE)
    assert FACE.w <= found[0].w <= 2.0 * FACE.w


def test_detections_are_padded_and_clipped_to_the_image():
    image = mf.face_picture(size=(140, 140), face=(10, 10, 120, 120))

    tight = detect_faces(image, padding=0.0)
    padded = detect_faces(image, padding=0.5)

    assert len(tight) == len(padded) == 1
    assert padded[0].w > tight[0].w
    assert padded[0].x >= 0 and padded[0].y >= 0
    assert padded[0].right <= 140 and padded[0].bottom <= 140


def test_a_face_in_a_large_photo_is_found_in_full_size_coordinates():
    box = (1400, 900, 400, 400)
    image = mf.face_picture(size=(2400, 1600), face=box)

    found = detect_faces(image)

    assert len(found) == 1
    assert _covers(found[0], Rect(*mf.face_in_box(box)))


def test_a_small_face_48_pixels_across_is_found():
    image, truth = mf.small_face_picture(face_width=48, size=(1024, 768))

    found = detect_faces(image)

    assert len(found) == 1
    assert _covers(found[0], Rect(*truth))


@pytest.mark.parametrize("degrees", [25, -25, 40])
def test_a_tilted_face_is_found(degrees):
    image, truth = mf.tilted_face_picture(degrees)

    found = detect_faces(image)

    assert len(found) == 1
    assert _covers(found[0], Rect(*truth), share=0.7)


def test_a_face_in_a_dark_photo_is_found():
    image, truth = mf.dark_face_picture(0.12)

    found = detect_faces(image)

    assert len(found) == 1
    assert _covers(found[0], Rect(*truth))


def test_pictures_without_faces_give_no_detections():
    image = Image.fromarray(mf.checkerboard(320, 240, cell=16))
    gradient = Image.linear_gradient("L").resize((320, 240)).convert("RGB")

    assert detect_faces(image) == []
    assert detect_faces(gradient) == []
    for name in mf.FACE_FREE:  # a coffee cup, a rocket, a cat
        assert detect_faces(mf.face_free(name)) == [], name


def _in_a_new_thread(work):
    with ThreadPoolExecutor(max_workers=1) as pool:  # nothing cached there yet
        return pool.submit(work).result()


def test_what_is_found_does_not_depend_on_what_was_searched_before():
    # A detector reused across pictures of other sizes once gave garbage
    # (OpenCV sizes a net's buffers for the first input it sees), so a
    # picture's faces depended on what an earlier, unrelated call had seen.
    pictures = [
        mf.astronaut(),
        mf.face_picture(size=(700, 300), face=(20, 20, 200, 200)),
        mf.face_free("coffee.jpg"),
        Image.fromarray(mf.checkerboard(320, 240, cell=16)),
    ]
    alone = [_in_a_new_thread(lambda p=p: detect_faces(p)) for p in pictures]

    in_a_row = _in_a_new_thread(lambda: [detect_faces(p) for p in pictures])

    assert in_a_row == alone
    assert [len(found) for found in alone] == [1, 1, 0, 0]


def test_threads_detecting_at_once_each_get_the_right_answer():
    photo = mf.astronaut()
    other = mf.face_picture(size=(480, 360), face=(200, 100, 200, 200))
    expected = [detect_faces(photo), detect_faces(other)]

    def work(i: int) -> list[Rect]:
        return detect_faces(photo if i % 2 == 0 else other)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(8)))

    assert results == [expected[i % 2] for i in range(8)]


def test_a_missing_model_file_fails_with_a_clear_message(monkeypatch, tmp_path):
    faces._nets_clear()
    monkeypatch.setattr(faces, "MODEL_PATH", tmp_path / "centerface.onnx")
    try:
        with pytest.raises(DetectorMissing, match=r"centerface\.onnx not found"):
            detect_faces(Image.new("RGB", (64, 64)))
    finally:
        faces._nets_clear()


def test_a_damaged_model_file_is_refused(monkeypatch, tmp_path):
    damaged = tmp_path / "centerface.onnx"
    damaged.write_bytes(faces.MODEL_PATH.read_bytes()[:-10] + b"0123456789")
    faces._nets_clear()
    monkeypatch.setattr(faces, "MODEL_PATH", damaged)
    try:
        with pytest.raises(DetectorMissing, match="damaged"):
            detect_faces(Image.new("RGB", (64, 64)))
    finally:
        faces._nets_clear()


def test_blur_changes_pixels_inside_the_rects_and_none_outside():
    before = Image.fromarray(mf.checkerboard(96, 64, cell=2))
    image = before.copy()
    rect = Rect(10, 12, 30, 20)

    blurred = blur_regions(image, [rect])

    assert blurred == 1
    old, new = np.asarray(before).astype(int), np.asarray(image).astype(int)
    inside = np.zeros(old.shape[:2], bool)
    inside[rect.y : rect.bottom, rect.x : rect.right] = True
    assert (old[~inside] == new[~inside]).all()
    # A fine checkerboard averages to flat grey: the detail is gone.
    assert new[inside].std() < 10 < old[inside].std()


def test_blur_clips_rects_to_the_image_and_skips_rects_outside_it():
    image = Image.fromarray(mf.checkerboard(40, 30, cell=2))
    before = image.copy()

    count = blur_regions(image, [Rect(-10, -10, 20, 20), Rect(100, 100, 5, 5)])

    assert count == 1
    changed = np.any(np.asarray(image) != np.asarray(before), axis=2)
    assert changed[:10, :10].any()
    assert not changed[10:, :].any() and not changed[:, 10:].any()


def test_a_blurred_face_is_no_longer_detected():
    image = mf.astronaut()
    found = detect_faces(image)
    assert found

    blur_regions(image, found)

    assert detect_faces(image) == []


def test_overlapping_rects_merge_into_their_union_and_separate_ones_stay():
    merged = merge_rects([Rect(0, 0, 10, 10), Rect(2, 2, 10, 10), Rect(50, 50, 5, 5)])

    assert sorted(merged) == [Rect(0, 0, 12, 12), Rect(50, 50, 5, 5)]


def test_a_rect_inside_another_is_merged_into_it():
    assert merge_rects([Rect(0, 0, 100, 100), Rect(40, 40, 10, 10)]) == [
        Rect(0, 0, 100, 100)
    ]


def test_track_interpolates_between_keyframes():
    face = ((0.0, Rect(0, 0, 10, 10)), (2.0, Rect(20, 40, 30, 10)))
    track = FaceTrack((face,), padding=0.0)

    assert track.rects_at(1.0) == [Rect(10, 20, 20, 10)]
    assert track.rects_at(0.0) == [Rect(0, 0, 10, 10)]
    assert track.rects_at(2.0) == [Rect(20, 40, 30, 10)]


def test_track_holds_a_rect_for_hold_s_beyond_its_keyframes_then_drops_it():
    track = FaceTrack.from_keyframes(
        [(5.0, Rect(0, 0, 10, 10))], hold_s=1.0, padding=0.0
    )

    assert track.rects_at(4.0) == [Rect(0, 0, 10, 10)]
    assert track.rects_at(6.0) == [Rect(0, 0, 10, 10)]
    assert track.rects_at(3.9) == []
    assert track.rects_at(6.1) == []


def test_track_pads_every_rect():
    track = FaceTrack.from_keyframes([(0.0, Rect(10, 10, 20, 10))], padding=0.5)

    assert track.rects_at(0.0) == [Rect(0, 5, 40, 20)]


def test_keyframes_of_two_faces_become_two_tracks():
    left = [(t, Rect(10 + 5 * t, 10, 20, 20)) for t in range(4)]
    right = [(t, Rect(200 - 5 * t, 10, 20, 20)) for t in range(4)]

    track = FaceTrack.from_keyframes(left + right, padding=0.0)

    assert len(track.faces) == 2
    assert sorted(track.rects_at(1.5)) == [Rect(17, 10, 21, 20), Rect(192, 10, 21, 20)]


def test_a_face_moving_fast_between_samples_stays_one_track():
    # The camera pans: the face moves more than its own size between samples.
    keyframes = [(t / 2, Rect(24 * t, 10, 20, 20)) for t in range(6)]

    track = FaceTrack.from_keyframes(keyframes, padding=0.0)

    assert len(track.faces) == 1
    assert track.rects_at(0.25) == [Rect(12, 10, 20, 20)]


def test_a_face_seen_again_after_a_long_gap_starts_a_new_track():
    keyframes = [(0.0, Rect(0, 0, 10, 10)), (10.0, Rect(0, 0, 10, 10))]

    track = FaceTrack.from_keyframes(keyframes, max_gap_s=2.5, hold_s=1.0)

    assert len(track.faces) == 2
    assert track.rects_at(5.0) == []


def test_a_still_track_covers_every_time_without_padding():
    track = FaceTrack.still([(1, 2, 3, 4)])

    assert track.rects_at(0.0) == track.rects_at(3600.0) == [Rect(1, 2, 3, 4)]
    assert bool(FaceTrack()) is False


def test_rect_scaling_rounds_outwards():
    assert Rect(1, 1, 3, 3).scaled(0.5, 0.5) == Rect(0, 0, 2, 2)
    assert Rect(10, 10, 10, 10).scaled(2, 3) == Rect(20, 30, 20, 30)
    assert math.isclose(Rect(0, 0, 4, 4).scaled(1.5, 1.5).w, 6)


def test_the_frame_the_poster_is_taken_from_is_always_searched(tmp_path):
    """A long video is sampled sparsely, but its poster and thumbnail, which
    everyone on the case sees, come from one frame (1 s in): that frame is
    searched even when no sample falls on it."""
    face = np.asarray(mf.face_picture(size=(320, 240), face=(90, 50, 120, 120)))
    blank = np.full_like(face, 200)

    def frame(index: int, t: float) -> np.ndarray:
        return face if 0.9 <= t < 1.2 else blank

    video = mf.write_video(
        tmp_path / "long.mp4",
        size=(320, 240),
        fps=10,
        seconds=6,
        frames=frame,
        audio=False,
    )

    # Three samples: 0, 2 and 4 s, none while the face is on screen.
    found = faces.detect_faces_in_video(video, sample_every_s=0.5, max_samples=3)

    assert found, "the poster's frame was not searched"
    assert all(0.9 <= t < 1.2 for t, _rect in found)
    assert all(_centre_inside(rect, Rect(90, 50, 120, 120)) for _t, rect in found)
