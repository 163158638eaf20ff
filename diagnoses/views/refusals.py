"""A service's refusal of a form post, put back on the form.

Views that validate a form and call a service which may refuse it (a PHI
finding, a field problem) all do the same: list the findings under their
fields with their "not identifying" boxes (:func:`cases.views.phi_forms.
attach_findings`), put any other refusal on the form
(:func:`workspace.http.form_refusal`), and render the form page again.
:class:`refused_on_form` does the first two around the service call::

    with refused_on_form(request, form) as refused:
        entry = services.differential_add(...)
    if refused:
        return refused.response or form_page(form, status=400)

It lives here, not in workspace/http.py (the translator of every other
refusal), because the PHI gate belongs to cases, which workspace may not
import; consults uses it from here.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from django import forms
from django.http import HttpRequest, HttpResponse

from cases.phi_gate import PHIFound
from cases.views.phi_forms import attach_findings, dismissed_keys, phi_json
from workspace.errors import InvalidInput, ServiceError
from workspace.http import form_refusal

__all__ = ["refused_on_form"]


class refused_on_form:  # lower case: it reads as a function in a `with`
    """Catch the refusal of the service called inside the ``with``.

    - A :class:`~cases.phi_gate.PHIFound` is listed on ``form`` (or handed to
      ``findings(exc, dismissed)`` when the page has several forms to show
      it on); for a ``json`` caller ``response`` is the :func:`phi_json`
      answer instead.
    - A refusal of class ``catch`` (``InvalidInput`` unless told: field
      problems; ``ServiceError`` for every refusal; ``()`` for none) goes on
      the form through :func:`~workspace.http.form_refusal`, which lets a
      ``PermissionDenied`` through. For a ``json`` caller it propagates, so
      the view's ``translate_errors`` answers it.
    - Anything else propagates.

    The object is true once it caught a refusal.
    """

    def __init__(
        self,
        request: HttpRequest,
        form: forms.BaseForm,
        *,
        catch: type[ServiceError] | tuple[type[ServiceError], ...] = InvalidInput,
        json: bool = False,
        findings: Callable[[PHIFound, set[str]], None] | None = None,
    ) -> None:
        self.form = form
        self.catch = catch
        self.json = json
        self.findings = findings
        self.dismissed = dismissed_keys(request.POST)
        self.refused = False
        self.response: HttpResponse | None = None

    def __enter__(self) -> refused_on_form:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if isinstance(exc, PHIFound):
            if self.json:
                self.response = phi_json(exc)
            elif self.findings is not None:
                self.findings(exc, self.dismissed)
            else:
                attach_findings(self.form, exc, dismissed=self.dismissed)
        elif isinstance(exc, self.catch) and not self.json:
            form_refusal(self.form, exc)
        else:
            return False
        self.refused = True
        return True

    def __bool__(self) -> bool:
        return self.refused
