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


COMMANDS = {"ws": seed_ws}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks.seeding")
    sub = parser.add_subparsers(dest="command", required=True)
    ws = sub.add_parser("ws")
    ws.add_argument("--clients", type=int, default=500)
    ws.add_argument("--cases", type=int, default=4)
    args = parser.parse_args(argv)
    result = COMMANDS[args.command](args)
    connection.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
