"""Demo accounts and workspace (see the ``seed_demo`` command)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from .models import (
    CareLink,
    ClinicianProfile,
    Membership,
    PatientInvite,
    Specialty,
    User,
    Workspace,
)

DEMO_PASSWORD = "consilium-demo"


@dataclass
class Demo:
    """What the seeders share: created objects by name, and logins to print."""

    stdout: Any = None
    users: dict[str, User] = field(default_factory=dict)
    workspace: Workspace | None = None
    objects: dict[str, Any] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)


def _user(username: str, *, kind: str, first: str, last: str, email: str) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "kind": kind,
            "first_name": first,
            "last_name": last,
            "email": email,
            "email_confirmed_at": timezone.now(),
        },
    )
    if created or not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save()
    if user.email == email and user.email_confirmed_at is None:
        # Demo addresses count as confirmed, so invitations by address resolve.
        user.email_confirmed_at = timezone.now()
        user.save(update_fields=["email_confirmed_at"])
    return user


def _clinician(
    username, first, last, *, title, specialties, verified=True, staff=False
):
    user = _user(
        username,
        kind=User.Kind.CLINICIAN,
        first=first,
        last=last,
        email=f"{username}@demo.consilium",
    )
    if staff and not user.is_staff:
        user.is_staff = user.is_superuser = True
        user.save(update_fields=["is_staff", "is_superuser"])
    profile, _ = ClinicianProfile.objects.get_or_create(user=user)
    profile.title = title
    profile.registration_number = profile.registration_number or f"DEMO-{user.pk:05d}"
    profile.registration_body = "Demo Medical Council"
    profile.institution = "St Demo's Teaching Hospital"
    if verified:
        profile.verification = ClinicianProfile.Verification.VERIFIED
        profile.verified_at = profile.verified_at or timezone.now()
    profile.save()
    profile.specialties.set(Specialty.objects.filter(name__in=specialties))
    return user


def seed(demo: Demo) -> None:
    ana = _clinician(
        "ana", "Ana", "Ortiz", title="Dr", specialties=["Internal Medicine"], staff=True
    )
    ben = _clinician(
        "ben", "Ben", "Okafor", title="Dr", specialties=["Emergency Medicine"]
    )
    sam = _clinician(
        "sam",
        "Samira",
        "Haddad",
        title="Dr",
        specialties=["Dermatology", "Rheumatology"],
    )
    uma = _clinician(
        "uma",
        "Uma",
        "Lindqvist",
        title="Dr",
        specialties=["Family Medicine"],
        verified=False,
    )
    workspace, _ = Workspace.objects.get_or_create(
        slug="st-demo-medicine",
        defaults={
            "name": "St Demo's Medicine",
            "description": "Department of medicine case conference",
            "created_by": ana,
        },
    )
    for user, role in [
        (ana, "owner"),
        (ben, "member"),
        (sam, "member"),
        (uma, "member"),
    ]:
        Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role}
        )

    pat = _user(
        "pat",
        kind=User.Kind.PATIENT,
        first="Pat",
        last="Demo",
        email="pat@demo.consilium",
    )
    invite, _ = PatientInvite.objects.get_or_create(
        clinician=ana,
        note="Demo patient",
        defaults={"used_by": pat, "used_at": timezone.now()},
    )
    CareLink.objects.get_or_create(
        patient=pat, clinician=ana, defaults={"invite": invite}
    )
    PatientInvite.objects.get_or_create(
        clinician=ana, note="Unused demo code", used_at=None
    )

    demo.users.update({"ana": ana, "ben": ben, "sam": sam, "uma": uma, "pat": pat})
    demo.workspace = workspace
    demo.logins += [
        ("ana", "clinician, workspace owner, staff (admin at /admin/)"),
        ("ben", "clinician (emergency medicine)"),
        ("sam", "specialist: dermatology and rheumatology (consult queue)"),
        ("uma", "unverified clinician (sees only her own cases)"),
        ("pat", "patient of Dr Ortiz (patient portal)"),
    ]
