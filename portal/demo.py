"""Demo patient submissions for ``seed_demo`` (after the demo cases and their
differentials): what ``pat`` sent Dr Ortiz (``ana``), in every state.

- attached: a short video of a swollen calf, on the pulmonary-embolism entry
  of the chest-pain case ``ana`` collaborates on, with its case-grade copy;
- reviewed: a photo of a rash, rated credible, with a note to the patient;
- submitted (unread): a TikTok that "looks exactly like" the patient's hands;
- dismissed: a YouTube "cure" rated as misinformation, with a note;
- withdrawn: a Reddit thread the patient took back.

Pictures are drawn here (no real person, no camera metadata) and go through
the real media pipeline and services. Running the seeder again finds each
submission by its description and leaves it alone.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

from django.db import transaction

from cases.models import Case, CaseAsset
from cases.services import media as case_media
from diagnoses.models import Differential
from media_handling import services as media_services
from media_handling.models import MediaAsset
from portal import services, submission_media
from portal.models import FindingLink, Submission
from workspace.demo import Demo
from workspace.events import user_group

__all__ = ["seed"]

CALF_VIDEO = (
    "My left calf has been swollen and sore since I got back from my trip. "
    "Filmed this morning, next to my right leg."
)
RASH_PHOTO = (
    "Photo of the rash on my forearm, taken last night. It itches more in the "
    "evening. #eczema"
)
TIKTOK_HANDS = (
    "This TikTok looks exactly like what happens to my fingers in the cold! "
    "#raynauds #coldhands"
)
YOUTUBE_CURE = (
    "Saw this video saying a juice cleanse cures thyroid problems. Should I try "
    "it instead of my tablets? #thyroid"
)
REDDIT_THREAD = "Someone on Reddit has the same symptoms as me."


def _picture(path: Path) -> Path:
    from PIL import Image, ImageDraw, ImageFilter

    image = Image.new("RGB", (480, 360), (222, 184, 160))
    draw = ImageDraw.Draw(image)
    for x, y, r in [(180, 150, 40), (250, 190, 55), (300, 140, 30), (210, 230, 35)]:
        draw.ellipse([x - r, y - r, x + r, y + r], fill=(200, 90, 90))
    image = image.filter(ImageFilter.GaussianBlur(6))
    image.save(path, format="JPEG", quality=88)
    return path


def _video(path: Path) -> Path:
    import av
    import numpy as np

    width, height, fps = 320, 240, 10
    out = av.open(str(path), "w", format="mp4")
    stream = out.add_stream("libx264", rate=fps)
    stream.codec_context.width, stream.codec_context.height = width, height
    stream.codec_context.pix_fmt = "yuv420p"
    ys, xs = np.mgrid[0:height, 0:width]
    for i in range(2 * fps):
        frame = np.full((height, width, 3), (70, 80, 95), dtype=np.uint8)
        # Two legs; the left one wider, as swollen, the camera panning slowly.
        shift = i * 2
        for centre, half in ((110 + shift, 38), (215 + shift, 28)):
            leg = np.abs(xs - centre) < half + (ys // 40)
            frame[leg] = (226, 182, 156)
        picture = av.VideoFrame.from_ndarray(frame, format="rgb24")
        picture.pts = i
        picture.time_base = Fraction(1, fps)
        out.mux(stream.encode(picture))
    out.mux(stream.encode(None))
    out.close()
    return path


def _asset(patient, make: Callable[[Path], Path], name: str) -> MediaAsset:
    """A processed patient asset made from a drawn file."""
    with tempfile.TemporaryDirectory(prefix="consilium-demo-") as tmp:
        path = make(Path(tmp) / name)
        upload = submission_media.upload_from_path(path)
        try:
            asset = media_services.asset_create_from_upload(
                upload=upload, uploaded_by=patient, owner_group=user_group(patient)
            )
        finally:
            upload.close()
    # Processed now, so it can be attached in the same run; the task queued on
    # commit finds it done and leaves it.
    media_services.asset_process(asset_id=asset.pk)
    asset.refresh_from_db()
    return asset


def _existing(patient, description: str) -> Submission | None:
    return Submission.objects.filter(patient=patient, description=description).first()


def _submit(patient, clinician, description: str, **content) -> Submission:
    return services.submission_create(
        patient=patient,
        clinician=clinician,
        description=description,
        consent=True,
        **content,
    )


def _entry_for(clinician, case_title: str, label: str) -> Differential | None:
    case = Case.objects.filter(title=case_title).first()
    if case is None:
        return None
    return Differential.objects.filter(case=case, label=label).first()


def _attach_now(submission: Submission, clinician, entry: Differential) -> None:
    finding = services.submission_attach(
        submission=submission,
        by=clinician,
        differential=entry,
        relation=FindingLink.Relation.SUPPORTS,
        note="Unilateral calf swelling on the patient's video: a likely source "
        "for the embolus.",
    )
    # Make the case copy now rather than waiting for the worker (faces found
    # are blurred in the same pass).
    copy = submission_media.case_copy_make(finding)
    if copy is None:
        return
    media_services.asset_process(asset_id=copy.pk)
    # The demo's clinician has already reviewed the copy (a calf) and shared it.
    item = CaseAsset.objects.get(case_id=finding.case_id, asset_id=copy.pk)
    case_media.case_media_faces_confirm(item=item, by=clinician, release=True)


def seed(demo: Demo) -> None:
    patient, clinician = demo.users.get("pat"), demo.users.get("ana")
    if patient is None or clinician is None:
        return
    with transaction.atomic():
        _seed(patient, clinician)


def _seed(patient, clinician) -> None:
    if _existing(patient, REDDIT_THREAD) is None:
        withdrawn = _submit(
            patient,
            clinician,
            REDDIT_THREAD,
            link_url="https://www.reddit.com/r/AskDocs/comments/1abcd2e/"
            "swollen_calf_after_flight/?utm_source=share&utm_medium=ios_app",
        )
        services.submission_withdraw(submission=withdrawn, by=patient)

    if _existing(patient, YOUTUBE_CURE) is None:
        cure = _submit(
            patient,
            clinician,
            YOUTUBE_CURE,
            link_url="https://youtu.be/dQw4w9WgXcQ?si=Xy12AbCdEfGh",
        )
        services.submission_rate(
            submission=cure,
            by=clinician,
            credibility="misinformation",
            note="Promotes stopping thyroid medication; no evidence.",
        )
        services.submission_dismiss(
            submission=cure,
            by=clinician,
            note="Please don't stop your tablets. Juice cleanses don't treat "
            "thyroid disease; we can talk about how you're feeling on Thursday.",
        )

    if _existing(patient, RASH_PHOTO) is None:
        photo = _asset(patient, _picture, "rash.jpg")
        rash = _submit(patient, clinician, RASH_PHOTO, asset=photo)
        services.submission_rate(
            submission=rash,
            by=clinician,
            credibility="credible",
            note="Clear photo; flexural distribution fits eczema.",
        )
        services.submission_reply(
            submission=rash,
            by=clinician,
            note="Thanks, this is helpful. Keep using the emollient twice a day "
            "and we'll look at it together on Thursday.",
        )

    if _existing(patient, CALF_VIDEO) is None:
        video = _asset(patient, _video, "calf.mp4")
        calf = _submit(patient, clinician, CALF_VIDEO, asset=video)
        entry = _entry_for(
            clinician,
            "Pleuritic chest pain two weeks after a long-haul flight",
            "Pulmonary embolism",
        )
        if entry is not None:
            _attach_now(calf, clinician, entry)
        else:
            services.submission_rate(
                submission=calf, by=clinician, credibility="credible"
            )

    if _existing(patient, TIKTOK_HANDS) is None:
        _submit(
            patient,
            clinician,
            TIKTOK_HANDS,
            link_url="https://www.tiktok.com/@coldhands.diary/video/"
            "7312345678901234567?is_from_webapp=1&sender_device=pc",
        )
