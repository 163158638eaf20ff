"""Seed a throwaway benchmark database; run as ``python -m benchmarks.seeding``.

Runs inside the benchmark's Django environment (``Site.env()``: its own
SQLite file or PostgreSQL database) and prints one JSON line with what the
benchmark needs: ids and session keys. Rows are made with ``bulk_create``
where the services would only slow seeding down; anything whose invariants
matter to the measurement (threads, messages' ``seq``) uses the same fields
the services would write.
"""

# ruff: noqa: E402  (Django is set up before the models are imported)
from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string

from cases.models import Case, CaseParticipant
from workspace.models import ClinicianProfile, Specialty, User

PASSWORD = "bench-password-not-secret"
_hash_cache: dict[str, str] = {}


def _password_hash() -> str:
    # One PBKDF2 run for every seeded user: hashing is slow by design.
    if "h" not in _hash_cache:
        _hash_cache["h"] = make_password(PASSWORD)
    return _hash_cache["h"]


def clinicians(
    count: int, *, prefix: str, specialties: list[Specialty] | None = None
) -> list[User]:
    """Verified clinicians, made in bulk."""
    users = User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{i}",
                password=_password_hash(),
                kind=User.Kind.CLINICIAN,
                first_name=f"Bench{i}",
                last_name="Clinician",
                email=f"{prefix}{i}@example.org",
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    if not all(u.pk for u in users):
        users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    ClinicianProfile.objects.bulk_create(
        [
            ClinicianProfile(
                user=u,
                title="Dr",
                registration_number=f"BENCH{u.pk:06d}",
                verification=ClinicianProfile.Verification.VERIFIED,
            )
            for u in users
        ],
        batch_size=500,
    )
    if specialties:
        through = ClinicianProfile.specialties.through
        profiles = ClinicianProfile.objects.filter(user__in=users)
        through.objects.bulk_create(
            [
                through(clinicianprofile_id=p.pk, specialty_id=s.pk)
                for p in profiles
                for s in specialties
            ],
            ignore_conflicts=True,
        )
    return users


def sessions_for(users: list[User]) -> list[str]:
    """A logged-in session key per user, as ``django.contrib.auth.login``
    would store it."""
    store = SessionStore()
    expire = timezone.now() + timedelta(days=1)
    rows, keys = [], []
    for user in users:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(
            Session(
                session_key=key, session_data=store.encode(data), expire_date=expire
            )
        )
        keys.append(key)
    Session.objects.bulk_create(rows, batch_size=500)
    return keys


def published_case(owner: User, title: str, **fields: Any) -> Case:
    case = Case.objects.create(
        owner=owner,
        title=title,
        status=Case.Status.PUBLISHED,
        visibility=Case.Visibility.COMMUNITY,
        published_at=timezone.now(),
        presenting_complaint=fields.pop(
            "presenting_complaint", "Three days of fever and a spreading rash."
        ),
        **fields,
    )
    CaseParticipant.objects.create(
        case=case, user=owner, role=CaseParticipant.Role.OWNER
    )
    return case


# --- ws -----------------------------------------------------------------------------


def seed_ws(args: argparse.Namespace) -> dict:
    """A sender who owns ``--cases`` published community cases and
    ``--clients`` verified clinicians who may read them."""
    from realtime.services import thread_default

    with transaction.atomic():
        sender = clinicians(1, prefix="sender")[0]
        readers = clinicians(args.clients, prefix="reader")
        cases = []
        for index in range(args.cases):
            case = published_case(sender, f"Fan-out case {index + 1}")
            cases.append({"id": case.pk, "thread": thread_default(case=case).pk})
        keys = sessions_for([sender, *readers])
    return {"cases": cases, "sender_session": keys[0], "sessions": keys[1:]}


# --- pages ---------------------------------------------------------------------------

HISTORY = (
    "Three days of fever to 39.2 °C, then a **non-blanching** purpuric rash "
    "spreading from the ankles. No travel. Started *amoxicillin* a week ago.\n\n"
    "- CRP 87, WCC 13.1\n- Urinalysis: blood ++, protein +\n"
)
MESSAGE = (
    "Agree the distribution fits. Could we get **skin biopsy with IF** before "
    "steroids? See the second photo: palpable, not just petechial."
)


def _tiny_jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (180, 120, 110)).save(buffer, format="JPEG")
    return buffer.getvalue()


def seed_pages(args: argparse.Namespace) -> dict:
    """The issue's page fixture: ``--cases`` published cases; one of them
    with ``--messages`` messages, ``--media`` ready media and
    ``--differentials`` voted differentials; an open consult queue for the
    viewer's specialties and an inbox of patients' submissions."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from cases.models import CaseAsset, Tag
    from consults.models import ConsultRequest
    from diagnoses.models import Differential, DifferentialVote
    from media_handling.models import MediaAsset
    from portal.models import SocialLink, Submission
    from realtime.models import Message
    from realtime.services import thread_default
    from workspace.markdown import render_markdown
    from workspace.models import CareLink

    now = timezone.now()
    specialties = list(Specialty.objects.order_by("name")[:12])
    mine = [
        s for s in specialties if s.name in ("Dermatology", "Rheumatology")
    ] or specialties[:2]
    with transaction.atomic():
        viewer = clinicians(1, prefix="viewer", specialties=mine)[0]
        authors = clinicians(20, prefix="author")
        tags = [Tag(name=f"bench-tag-{i}", slug=f"bench-tag-{i}") for i in range(30)]
        tags = Tag.objects.bulk_create(tags)

        template = Case(
            title="t", presenting_complaint="Fever and rash.", history=HISTORY
        )
        template.render_markdown_fields()
        rendered = template.rendered
        cases = Case.objects.bulk_create(
            [
                Case(
                    owner=authors[i % len(authors)],
                    title=f"Purpuric rash after amoxicillin, case {i}",
                    specialty=specialties[i % len(specialties)],
                    age_band="30–39",
                    sex="female",
                    presenting_complaint="Fever and rash.",
                    history=HISTORY,
                    status=Case.Status.PUBLISHED,
                    visibility=Case.Visibility.COMMUNITY,
                    published_at=now - timedelta(minutes=i),
                    rendered=rendered,
                )
                for i in range(args.cases)
            ],
            batch_size=1000,
        )
        if not all(c.pk for c in cases):
            cases = list(Case.objects.order_by("pk"))
        CaseParticipant.objects.bulk_create(
            [
                CaseParticipant(
                    case=c, user_id=c.owner_id, role=CaseParticipant.Role.OWNER
                )
                for c in cases
            ],
            batch_size=1000,
        )
        through = Case.tags.through
        through.objects.bulk_create(
            [
                through(case_id=c.pk, tag_id=tags[(i + k) % len(tags)].pk)
                for i, c in enumerate(cases)
                for k in (0, 7)
            ],
            batch_size=2000,
        )

        # The big case: the viewer owns it, five colleagues take part.
        big = cases[0]
        Case.objects.filter(pk=big.pk).update(owner=viewer)
        CaseParticipant.objects.filter(case=big).update(user=viewer)
        colleagues = authors[:5]
        CaseParticipant.objects.bulk_create(
            [
                CaseParticipant(
                    case=big, user=u, role=CaseParticipant.Role.COLLABORATOR
                )
                for u in colleagues
            ]
        )
        thread = thread_default(case=big)
        html = render_markdown(MESSAGE)
        speakers = [viewer, *colleagues]
        Message.objects.bulk_create(
            [
                Message(
                    case=big,
                    thread=thread,
                    seq=n + 1,
                    author=speakers[n % len(speakers)],
                    client_id=f"seed-{n}",
                    body=MESSAGE,
                    body_html=html,
                )
                for n in range(args.messages)
            ],
            batch_size=1000,
        )
        Case.objects.filter(pk=big.pk).update(last_message_seq=args.messages)

        jpeg = _tiny_jpeg()
        assets = []
        for n in range(args.media):
            asset = MediaAsset(
                kind=MediaAsset.Kind.IMAGE,
                status=MediaAsset.Status.READY,
                mime="image/jpeg",
                size=len(jpeg),
                sha256=f"{n:064x}",
                metadata={"width": 1600, "height": 1200},
                uploaded_by=viewer,
                owner_group=f"case.{big.pk}",
                processed_at=now,
            )
            renditions = {}
            for role in ("display", "thumb"):
                name = f"bench/{asset.key.hex}/{role}.jpg"
                renditions[role] = default_storage.save(name, ContentFile(jpeg))
            asset.renditions = renditions
            assets.append(asset)
        assets = MediaAsset.objects.bulk_create(assets)
        CaseAsset.objects.bulk_create(
            [
                CaseAsset(
                    case=big,
                    asset=a,
                    added_by=viewer,
                    caption=f"Photo {n + 1}: lower leg",
                    position=n,
                    released_at=now,
                )
                for n, a in enumerate(assets)
            ]
        )

        voters = [viewer, *colleagues]
        differentials = Differential.objects.bulk_create(
            [
                Differential(
                    case=big,
                    label=f"IgA vasculitis variant {n + 1}",
                    icd10_code="D69.0",
                    rationale="Palpable purpura on the legs, haematuria, recent infection.",
                    proposed_by=voters[n % len(voters)],
                    position=n,
                )
                for n in range(args.differentials)
            ]
        )
        DifferentialVote.objects.bulk_create(
            [
                DifferentialVote(
                    differential=d, voter=v, likelihood=(17 * n + 11 * k) % 100
                )
                for n, d in enumerate(differentials)
                for k, v in enumerate(voters)
            ]
        )

        # The viewer's consult queue: open requests in their specialties.
        ConsultRequest.objects.bulk_create(
            [
                ConsultRequest(
                    case=cases[1 + n],
                    requested_by=cases[1 + n].owner,
                    specialty=mine[n % len(mine)],
                    question="Is this vasculitis or a drug eruption? Biopsy first?",
                    urgency=("routine", "urgent", "emergent")[n % 3],
                    due_at=now + timedelta(hours=n - 5),
                )
                for n in range(args.consults)
            ]
        )

        # The viewer's inbox: patients' submissions (links: no files to make).
        patients = User.objects.bulk_create(
            [
                User(
                    username=f"patient{n}",
                    password=_password_hash(),
                    kind=User.Kind.PATIENT,
                    first_name=f"Patient{n}",
                    last_name="Bench",
                )
                for n in range(args.patients)
            ]
        )
        CareLink.objects.bulk_create(
            [CareLink(patient=p, clinician=viewer) for p in patients]
        )
        links = SocialLink.objects.bulk_create(
            [
                SocialLink(
                    platform=SocialLink.Platform.YOUTUBE,
                    url=f"https://www.youtube.com/watch?v=bench{n:06d}",
                    canonical_url=f"https://www.youtube.com/watch?v=bench{n:06d}",
                    content_id=f"bench{n:06d}",
                    embed_url=f"https://www.youtube-nocookie.com/embed/bench{n:06d}",
                    hashtags=["rash", "vasculitis"],
                )
                for n in range(args.submissions)
            ]
        )
        Submission.objects.bulk_create(
            [
                Submission(
                    patient=patients[n % len(patients)],
                    clinician=viewer,
                    link=link,
                    description="This video looks exactly like my rash. Is it the same?",
                    consent_text="I agree to share this with my clinician.",
                    consent_at=now,
                )
                for n, link in enumerate(links)
            ]
        )
        keys = sessions_for([viewer])
    return {"case": big.pk, "session": keys[0], "viewer": viewer.pk}


def measure_pages(args: argparse.Namespace) -> dict:
    """Status, size and SQL query count of each page, rendered in-process
    for the seeded viewer (``CaptureQueriesContext``); the second request
    is counted, so one-off work (session, caches) does not skew it."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"] = args.session
    result = {}
    for url in args.urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        result[url] = {
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(queries.captured_queries),
        }
    return result


COMMANDS = {"ws": seed_ws, "pages": seed_pages, "pages-measure": measure_pages}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.seeding")
    sub = parser.add_subparsers(dest="command", required=True)
    ws = sub.add_parser("ws")
    ws.add_argument("--clients", type=int, default=500)
    ws.add_argument("--cases", type=int, default=4)
    pages = sub.add_parser("pages")
    pages.add_argument("--cases", type=int, default=10_000)
    pages.add_argument("--messages", type=int, default=1_000)
    pages.add_argument("--media", type=int, default=50)
    pages.add_argument("--differentials", type=int, default=30)
    pages.add_argument("--consults", type=int, default=60)
    pages.add_argument("--patients", type=int, default=30)
    pages.add_argument("--submissions", type=int, default=60)
    measure = sub.add_parser("pages-measure")
    measure.add_argument("--session", required=True)
    measure.add_argument("urls", nargs="+")
    args = parser.parse_args(argv)
    result = COMMANDS[args.command](args)
    connection.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
