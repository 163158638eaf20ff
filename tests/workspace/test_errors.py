"""workspace.http: one translator turns a service's refusal into a response."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from media_handling.sniff import MediaError, UploadLimitExceeded
from workspace.errors import InvalidInput, PermissionDenied, ServiceError
from workspace.http import form_refusal, translate_errors, wants_json

JSON = {"HTTP_ACCEPT": "application/json"}


def _json(response):
    return json.loads(response.content)


def _request(method: str = "post", path: str = "/x/", **headers):
    request = getattr(RequestFactory(), method)(path, **headers)
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _raising(exc: Exception, **options):
    @translate_errors(**options)
    def view(request, pk=None):
        raise exc

    return view


def test_wants_json_reads_the_accept_header():
    assert wants_json(_request(**JSON))
    assert not wants_json(_request(HTTP_ACCEPT="text/html"))


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ServiceError("No."), 400),
        (PermissionDenied("Not yours."), 403),
        (ServiceError("Busy.", status=409), 409),
        (MediaError("Unrecognised file type."), 400),
        (UploadLimitExceeded("Too many uploads in progress."), 429),
    ],
)
def test_json_caller_gets_the_message_with_the_errors_status(exc, status):
    response = _raising(exc)(_request(**JSON))

    assert response.status_code == status
    assert _json(response) == {"ok": False, "error": str(exc), "errors": {}}


def test_json_caller_gets_field_errors_and_a_joined_message():
    exc = InvalidInput({"title": "Give it a title.", "age": "Pick an age band."})

    response = _raising(exc)(_request(**JSON))

    assert response.status_code == 400
    assert _json(response)["errors"] == {
        "title": "Give it a title.",
        "age": "Pick an age band.",
    }
    assert _json(response)["error"] == "Give it a title. Pick an age band."


def test_json_only_endpoint_answers_json_whatever_the_accept_header():
    response = _raising(ServiceError("No."), json=True)(_request())

    assert response.status_code == 400 and _json(response)["error"] == "No."


def test_page_gets_django_403_for_permission_denied():
    with pytest.raises(DjangoPermissionDenied, match="Not yours"):
        _raising(PermissionDenied("Not yours."))(_request())


def test_refused_form_post_flashes_and_goes_back_to_the_views_page():
    view = _raising(ServiceError("Closed."), back=lambda request, pk: f"/cases/{pk}/")
    request = _request()

    response = view(request, pk=7)

    assert response.status_code == 302 and response["Location"] == "/cases/7/"
    assert [m.message for m in get_messages(request)] == ["Closed."]


def test_refused_post_goes_back_to_a_same_host_referer_only():
    same = _request(HTTP_REFERER="http://testserver/cases/3/")
    other = _request(HTTP_REFERER="https://evil.example/phish")

    back = _raising(ServiceError("Closed."))(same)
    stay = _raising(ServiceError("Closed."))(other)

    assert back.status_code == 302 and back["Location"] == "http://testserver/cases/3/"
    assert stay.status_code == 400 and "Closed." in stay.content.decode()


@pytest.mark.django_db
def test_refused_get_renders_a_page_with_the_message_and_status():
    request = _request("get")
    request.user = AnonymousUser()

    response = _raising(ServiceError("Busy.", status=409))(request)

    assert response.status_code == 409
    assert "Busy." in response.content.decode()


def test_success_passes_through():
    view = translate_errors(lambda request: HttpResponse("fine"))

    assert view(_request()).content == b"fine"


def test_form_refusal_puts_field_errors_on_their_fields_and_others_on_the_form():
    from django import forms

    class Form(forms.Form):
        title = forms.CharField(required=False)

    form = Form({"title": ""})
    form.is_valid()

    form_refusal(form, InvalidInput({"title": "Give it a title.", "zzz": "Odd."}))
    form_refusal(form, ServiceError("Closed."))

    assert form.errors["title"] == ["Give it a title."]
    assert form.non_field_errors() == ["Odd.", "Closed."]
    with pytest.raises(PermissionDenied):
        form_refusal(form, PermissionDenied("Not yours."))
