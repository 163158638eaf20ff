"""The viewer's time zone: profile, then the browser's ``tz`` cookie, then the
site default; the profile setting; pages and e-mails rendered in that zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, CaseParticipant
from realtime.models import Message
from realtime.services import message_post, thread_default
from tests.fixtures.cache import local_cache_clear
from workspace.mail.services import mention_digests_send
from workspace.models import ClinicianProfile, Notification, User
from workspace.time_zones import zone_canonical, zone_choices

# 00:05 UTC on 15 January: 09:05 the same day in Tokyo, 19:05 the day before in
# New York, 05:35 in Kolkata.
WHEN = datetime(2026, 1, 15, 0, 5, tzinfo=UTC)


def active_zone(response) -> str:
    html = response.content.decode()
    start = html.index('data-time-zone="') + len('data-time-zone="')
    return html[start : html.index('"', start)]


def profile_data(user: User, **overrides) -> dict:
    profile = user.clinician_profile
    data = {
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "title": profile.title,
        "registration_number": profile.registration_number,
        "registration_body": profile.registration_body,
        "institution": profile.institution,
        "specialties": [s.pk for s in profile.specialties.all()],
        "time_zone": user.time_zone,
    }
    data.update(overrides)
    return data


# --- Which zone applies -------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_page_without_a_cookie_uses_the_site_default(client, settings):
    settings.TIME_ZONE = "Europe/Lisbon"

    assert active_zone(client.get(reverse("login"))) == "Europe/Lisbon"


@pytest.mark.django_db
def test_browser_cookie_sets_the_zone_when_the_profile_names_none(
    client_for, clinician
):
    c = client_for(clinician)
    c.cookies["tz"] = "America/New_York"

    assert active_zone(c.get(reverse("profile"))) == "America/New_York"


@pytest.mark.django_db
def test_profile_zone_wins_over_the_browser_cookie(client_for, make_clinician):
    user = make_clinician("tomo", time_zone="Asia/Tokyo")
    c = client_for(user)
    c.cookies["tz"] = "America/New_York"

    assert active_zone(c.get(reverse("profile"))) == "Asia/Tokyo"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cookie", ["Mars/Olympus_Mons", "../../etc/passwd", "", "Asia/Tokyo" * 10]
)
def test_an_unknown_cookie_zone_is_ignored(client, settings, cookie):
    settings.TIME_ZONE = "Europe/Lisbon"
    client.cookies["tz"] = cookie

    assert active_zone(client.get(reverse("login"))) == "Europe/Lisbon"


@pytest.mark.django_db
def test_a_legacy_browser_zone_name_is_mapped_to_the_current_one(client):
    client.cookies["tz"] = "Asia/Calcutta"

    assert active_zone(client.get(reverse("login"))) == "Asia/Kolkata"


def test_zone_canonical_knows_current_legacy_and_unknown_names():
    assert zone_canonical("Europe/Paris") == "Europe/Paris"
    assert zone_canonical("Europe/Kiev") == "Europe/Kyiv"
    assert zone_canonical("Etc/UTC") == "UTC"
    assert zone_canonical("Europe/Atlantis") is None
    assert zone_canonical(None) is None


def test_zone_choices_are_grouped_by_region_without_legacy_names():
    choices = dict(zone_choices())
    assert choices[""] == "Follow my browser"
    asia = dict(choices["Asia"])
    assert asia["Asia/Kolkata"] == "Kolkata"
    assert "Asia/Calcutta" not in asia
    assert dict(choices["America"])["America/Argentina/Buenos_Aires"] == (
        "Argentina / Buenos Aires"
    )


# --- The profile setting ------------------------------------------------------------


@pytest.mark.django_db
def test_profile_offers_a_labelled_zone_select(client_for, clinician):
    response = client_for(clinician).get(reverse("profile"))

    html = response.content.decode()
    assert '<label for="id_time_zone">Time zone' in html
    assert '<select name="time_zone"' in html
    assert '<optgroup label="Europe">' in html
    assert '<option value="" selected>Follow my browser</option>' in html


@pytest.mark.django_db
def test_saving_a_zone_keeps_the_other_profile_fields(client_for, make_clinician):
    user = make_clinician("sana", specialties=["Dermatology"], first_name="Sana")
    ClinicianProfile.objects.filter(user=user).update(institution="St Elsewhere")
    user.refresh_from_db()
    verified_before = user.clinician_profile.verification

    response = client_for(user).post(
        reverse("profile"), profile_data(user, time_zone="Asia/Tokyo")
    )

    assert response.status_code == 302
    user.refresh_from_db()
    profile = user.clinician_profile
    assert user.time_zone == "Asia/Tokyo"
    assert user.first_name == "Sana"
    assert user.email == "sana@example.org"
    assert profile.institution == "St Elsewhere"
    assert list(profile.specialties.values_list("name", flat=True)) == ["Dermatology"]
    assert profile.verification == verified_before


@pytest.mark.django_db
def test_profile_stores_the_current_name_for_a_legacy_zone(client_for, clinician):
    client_for(clinician).post(
        reverse("profile"), profile_data(clinician, time_zone="Asia/Calcutta")
    )

    clinician.refresh_from_db()
    assert clinician.time_zone == "Asia/Kolkata"


@pytest.mark.django_db
def test_profile_rejects_an_unknown_zone_and_changes_nothing(client_for, clinician):
    response = client_for(clinician).post(
        reverse("profile"),
        profile_data(clinician, time_zone="Mars/Olympus_Mons", first_name="Changed"),
    )

    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    clinician.refresh_from_db()
    assert clinician.time_zone == ""
    assert clinician.first_name == "Alice"


@pytest.mark.django_db
def test_clearing_the_zone_goes_back_to_following_the_browser(
    client_for, make_clinician
):
    user = make_clinician("tomo", time_zone="Asia/Tokyo")
    c = client_for(user)

    c.post(reverse("profile"), profile_data(user, time_zone=""))

    user.refresh_from_db()
    assert user.time_zone == ""
    c.cookies["tz"] = "Europe/Berlin"
    assert active_zone(c.get(reverse("profile"))) == "Europe/Berlin"


@pytest.mark.django_db
def test_patient_saves_a_zone_and_a_new_name_together(client_for, make_patient):
    patient = make_patient("pia")

    response = client_for(patient).post(
        reverse("profile"),
        {
            "first_name": "Patricia",
            "last_name": "Pia",
            "email": patient.email,
            "time_zone": "Australia/Sydney",
        },
    )

    assert response.status_code == 302
    patient.refresh_from_db()
    assert (patient.time_zone, patient.first_name, patient.last_name) == (
        "Australia/Sydney",
        "Patricia",
        "Pia",
    )


def test_the_model_rejects_an_unknown_zone():
    from django.core.exceptions import ValidationError

    user = User(username="x", time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as err:
        user.clean_fields(exclude=["password"])
    assert "time_zone" in err.value.message_dict


# --- Pages and e-mails in the viewer's zone -----------------------------------------


@pytest.fixture
def discussed_case(make_clinician, make_case, django_capture_on_commit_callbacks):
    owner = make_clinician("olive", first_name="Olive", last_name="Owner")
    colleague = make_clinician("dana", first_name="Dana", last_name="Derm")
    case = make_case(
        owner,
        participants={colleague: CaseParticipant.Role.COLLABORATOR},
        status=Case.Status.PUBLISHED,
        title="Scaly plaques on the shins",
    )
    with django_capture_on_commit_callbacks(execute=True):
        message = message_post(
            case=case,
            thread=thread_default(case=case),
            by=owner,
            body="@dana what do you think?",
            client_id="tz-1",
        ).message
    Message.objects.filter(pk=message.pk).update(created=WHEN)
    return case, owner, colleague


def message_time(response) -> str:
    html = response.content.decode()
    start = html.index('class="msg__time"')
    return html[html.index(">", start) + 1 : html.index("</time>", start)]


@pytest.mark.django_db
def test_case_page_shows_a_message_time_in_the_viewers_profile_zone(
    discussed_case, client_for
):
    case, owner, _ = discussed_case
    User.objects.filter(pk=owner.pk).update(time_zone="Asia/Tokyo")

    response = client_for(owner).get(case.get_absolute_url())

    assert message_time(response) == "15 Jan, 09:05"


@pytest.mark.django_db
def test_case_page_shows_a_message_time_in_the_browsers_zone(
    discussed_case, client_for
):
    case, _, colleague = discussed_case
    c = client_for(colleague)
    c.cookies["tz"] = "America/New_York"

    assert message_time(c.get(case.get_absolute_url())) == "14 Jan, 19:05"


@pytest.fixture
def _nobody_online():
    local_cache_clear()


@pytest.mark.django_db
@pytest.mark.usefixtures("_nobody_online")
def test_mention_digest_shows_times_in_the_recipients_zone(discussed_case):
    _, _, colleague = discussed_case
    User.objects.filter(pk=colleague.pk).update(time_zone="Asia/Kolkata")
    Notification.objects.filter(user=colleague).update(created=WHEN)

    assert mention_digests_send(now=timezone.now() + timedelta(minutes=30)) == 1

    [digest] = mail.outbox
    assert "15 Jan 05:35 IST" in digest.body
    [(html, _)] = digest.alternatives
    assert "15 Jan 05:35 IST" in html
    # The sender's own zone is left as it was.
    assert timezone.get_current_timezone_name() == "UTC"


@pytest.mark.django_db
@pytest.mark.usefixtures("_nobody_online")
def test_mention_digest_without_a_profile_zone_uses_the_site_default(
    discussed_case, settings
):
    settings.TIME_ZONE = "UTC"
    _, _, colleague = discussed_case
    Notification.objects.filter(user=colleague).update(created=WHEN)

    assert mention_digests_send(now=timezone.now() + timedelta(minutes=30)) == 1

    [digest] = mail.outbox
    assert "15 Jan 00:05 UTC" in digest.body
