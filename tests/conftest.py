"""Shared fixtures: small factories, service guards, a live Daphne, a browser."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db import connections
from django.utils import timezone

from workspace.models import (
    CareLink,
    ClinicianProfile,
    Membership,
    Specialty,
    User,
    Workspace,
)

_counter = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"
SCALE_MODE = os.environ.get("CONSILIUM_REQUIRE_SERVICES") == "1"


def require_service(name: str, available: bool) -> None:
    """Skip without the service in embedded mode; fail in CI's scale run."""
    if available:
        return
    if SCALE_MODE:
        pytest.fail(f"{name} is required in scale mode but is not configured.")
    pytest.skip(f"{name} is not configured (embedded mode)")


@pytest.fixture
def requires_postgres() -> None:
    require_service("PostgreSQL (DATABASE_URL)", settings.IS_POSTGRES)


@pytest.fixture
def requires_redis() -> None:
    require_service("Redis (REDIS_URL)", bool(settings.REDIS_URL))


@pytest.fixture
def requires_s3() -> None:
    require_service(
        "S3 (CONSILIUM_TEST_S3=moto)", bool(getattr(settings, "S3_BUCKET", ""))
    )


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Restore data that migrations seed (specialties) for transactional tests.

    Transactional tests flush every table when they end, which would leave
    later transactional tests without the rows the migrations created.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    import_module("workspace.migrations.0002_specialties").seed(apps, None)


# --- Factories ------------------------------------------------------------------------


@pytest.fixture
def make_clinician(db) -> Callable[..., User]:
    def make(
        username: str | None = None,
        *,
        verified: bool = True,
        specialties: list[str] | None = None,
        title: str = "Dr",
        email_confirmed: bool = True,
        **extra,
    ) -> User:
        n = next(_counter)
        username = username or f"clinician{n}"
        user = User.objects.create_user(
            username=username,
            email=extra.pop("email", f"{username}@example.org"),
            email_confirmed_at=timezone.now() if email_confirmed else None,
            password=PASSWORD,
            first_name=extra.pop("first_name", username.capitalize()),
            last_name=extra.pop("last_name", "Tester"),
            kind=User.Kind.CLINICIAN,
            **extra,
        )
        profile = ClinicianProfile.objects.create(
            user=user,
            title=title,
            registration_number=f"REG{n:05d}",
            verification=(
                ClinicianProfile.Verification.VERIFIED
                if verified
                else ClinicianProfile.Verification.UNVERIFIED
            ),
        )
        if specialties:
            profile.specialties.set(Specialty.objects.filter(name__in=specialties))
        return user

    return make


@pytest.fixture
def make_patient(db) -> Callable[..., User]:
    def make(username: str | None = None, *, clinician: User | None = None) -> User:
        username = username or f"patient{next(_counter)}"
        user = User.objects.create_user(
            username=username,
            email=f"{username}@example.org",
            email_confirmed_at=timezone.now(),
            password=PASSWORD,
            first_name="Pat",
            last_name=username.capitalize(),
            kind=User.Kind.PATIENT,
        )
        if clinician is not None:
            CareLink.objects.create(patient=user, clinician=clinician)
        return user

    return make


@pytest.fixture
def make_workspace(db) -> Callable[..., Workspace]:
    def make(
        name: str | None = None, *, members: dict[User, str] | None = None
    ) -> Workspace:
        n = next(_counter)
        workspace = Workspace.objects.create(
            name=name or f"Workspace {n}", slug=f"ws-{n}"
        )
        for user, role in (members or {}).items():
            Membership.objects.create(workspace=workspace, user=user, role=role)
        return workspace

    return make


@pytest.fixture
def make_case(db):
    """Create a case directly (bypassing services) with its owner participant."""
    from cases.models import Case, CaseParticipant

    def make(owner: User, **fields) -> Case:
        participants = fields.pop("participants", {})
        fields.setdefault("title", f"Case {next(_counter)}")
        fields.setdefault("presenting_complaint", "Fever and a rash for three days.")
        case = Case.objects.create(owner=owner, **fields)
        CaseParticipant.objects.create(
            case=case, user=owner, role=CaseParticipant.Role.OWNER
        )
        for user, role in participants.items():
            CaseParticipant.objects.create(case=case, user=user, role=role)
        return case

    return make


@pytest.fixture
def clinician(make_clinician) -> User:
    return make_clinician("alice")


@pytest.fixture
def client_for(client, django_user_model):
    """A fresh logged-in test client for a user."""
    from django.test import Client

    def make(user: User) -> Client:
        c = Client()
        c.force_login(user)
        return c

    return make


# --- Live ASGI server and browser -------------------------------------------------------


def _fresh_sync_thread() -> None:
    """In the forked server: give asgiref a new thread for sync calls.

    An async test earlier in the run starts asgiref's shared thread in this
    process; the fork copies the executor but not its thread, so every
    database call of a WebSocket consumer would wait forever.
    """
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def asgi_live_server(transactional_db) -> Iterator[str]:
    """Serve the real ASGI application (HTTP and WebSockets) with Daphne.

    Daphne runs in a forked process on 127.0.0.1 and sees the committed test
    database; returns the base URL.
    """
    from daphne.testing import DaphneProcess

    from workspace.asgi import application

    connections.close_all()
    process = DaphneProcess(
        host="127.0.0.1",
        get_application=lambda: application,
        kwargs={},
        setup=_fresh_sync_thread,
    )
    process.start()
    if not process.ready.wait(20):
        process.terminate()
        raise RuntimeError("Daphne did not start")
    try:
        yield f"http://127.0.0.1:{process.port.value}"
    finally:
        process.terminate()
        process.join(5)
        connections.close_all()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture
def browser():
    """Debian's chromium driven by Playwright (it cannot download its own).

    Function-scoped: Playwright's sync API keeps an event loop running in
    this thread while it lives, which would break later non-browser tests.
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            "chromium is not installed: run `make test`, which installs it with apt."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own
    # database calls are still synchronous and safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    old_home = os.environ.get("HOME")
    home = tempfile.mkdtemp(prefix="consilium-chromium-")
    os.environ["HOME"] = home
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            yield browser
            browser.close()
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def logged_in_page(browser, asgi_live_server):
    """Open a browser context already logged in as ``user`` (session cookie)."""
    from django.test import Client

    contexts = []

    def make(user: User, *, viewport: dict | None = None, **context_options):
        """``context_options`` go to Playwright's ``new_context`` (e.g.
        ``timezone_id="Asia/Tokyo"``)."""
        c = Client()
        c.force_login(user)
        cookie = c.cookies[settings.SESSION_COOKIE_NAME]
        context = browser.new_context(
            base_url=asgi_live_server,
            viewport=viewport or {"width": 1280, "height": 900},
            **context_options,
        )
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": cookie.value,
                    "url": asgi_live_server,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()
