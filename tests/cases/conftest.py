"""Fixtures for case tests: a cast of users around one case, a clinician and
their patient (for submission and portal tests), event capture."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from cases.models import Case, CaseParticipant
from workspace.events import case_group
from workspace.models import Specialty, User, Workspace

# Who may look at a case, from the closest to the furthest.
PARTICIPANT_ROLES = ("owner", "collaborator", "consultant", "viewer")
ROLES = (
    *PARTICIPANT_ROLES,
    "member",  # verified clinician in the case's workspace
    "outsider",  # verified clinician outside it
    "unverified",  # unverified clinician, a workspace member too
    "patient",
    "anonymous",
)


@dataclass
class Cast:
    users: dict[str, User | None]
    workspace: Workspace
    make: Callable[..., Case]

    def __getattr__(self, name: str) -> User:
        try:
            return self.users[name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def case(
        self,
        *,
        visibility: str = Case.Visibility.COMMUNITY,
        status: str = Case.Status.PUBLISHED,
        **fields,
    ) -> Case:
        """A complete case owned by ``owner`` with the three invited roles."""
        # A numbered default title ("Case 1042") reads as a case number to
        # the PHI scanner, so cases made here get a plain one.
        fields.setdefault("title", "Annular rash after a camping trip")
        fields.setdefault("specialty", Specialty.objects.get(name="Dermatology"))
        fields.setdefault("age_band", "40–49")
        if status != Case.Status.DRAFT:
            fields.setdefault("published_at", timezone.now())
        return self.make(
            self.users["owner"],
            workspace=self.workspace,
            visibility=visibility,
            status=status,
            participants={
                self.users["collaborator"]: CaseParticipant.Role.COLLABORATOR,
                self.users["consultant"]: CaseParticipant.Role.CONSULTANT,
                self.users["viewer"]: CaseParticipant.Role.VIEWER,
            },
            **fields,
        )


@pytest.fixture
def cast(make_clinician, make_patient, make_workspace, make_case) -> Cast:
    users: dict[str, User | None] = {
        name: make_clinician(name) for name in PARTICIPANT_ROLES
    }
    users["member"] = make_clinician("member")
    users["outsider"] = make_clinician("outsider")
    users["unverified"] = make_clinician("unverified", verified=False)
    users["patient"] = make_patient("patient", clinician=users["owner"])
    users["anonymous"] = None
    workspace = make_workspace(
        "Derm Ward",
        members={
            users["owner"]: "owner",
            users["member"]: "member",
            users["unverified"]: "member",
        },
    )
    return Cast(users=users, workspace=workspace, make=make_case)


def can_view(role: str, visibility: str, status: str) -> bool:
    """The rule under test, written out independently of cases.permissions."""
    if role in PARTICIPANT_ROLES:
        return True
    if status not in (Case.Status.PUBLISHED, Case.Status.RESOLVED):
        return False
    if role == "member":
        return visibility in (Case.Visibility.WORKSPACE, Case.Visibility.COMMUNITY)
    if role == "outsider":
        return visibility == Case.Visibility.COMMUNITY
    return False


@pytest.fixture
def doc(make_clinician) -> User:
    return make_clinician("doc")


@pytest.fixture
def pat(make_patient, doc) -> User:
    """A patient of ``doc``; submission tests that look for the patient's
    name in pages and trails override it with ``named_patient``."""
    return make_patient("pat", clinician=doc)


@pytest.fixture
def doc_client(client_for, doc):
    return client_for(doc)


@pytest.fixture
def case_events(django_capture_on_commit_callbacks):
    """Run a callable and return the frames broadcast to a case's group."""
    layer = get_channel_layer()

    def capture(
        case: Case, action: Callable[[], object], *, expect: bool = True
    ) -> list[dict]:
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.group_add)(case_group(case), channel)
        with django_capture_on_commit_callbacks(execute=True):
            action()

        async def drain() -> list[dict]:
            # Wait generously for the first frame, then take what is queued.
            frames = []
            wait = 5.0 if expect else 0.2
            while True:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), wait)
                except TimeoutError:
                    return frames
                frames.append(message["payload"])
                wait = 0.05

        try:
            return async_to_sync(drain)()
        finally:
            async_to_sync(layer.group_discard)(case_group(case), channel)

    return capture
