"""Finding a case's media item for a viewer (404 when they may not see it, or
it is not theirs) and the way back to the case's media; shared by the media
views."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.urls import reverse

from cases.models import Case, CaseAsset


def _item(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    """The case's item for ``asset_id`` if the viewer may see it; else 404."""
    item = (
        CaseAsset.objects.select_related("asset", "case")
        .filter(case=case, asset_id=asset_id)
        .first()
    )
    if item is None or not item.visible_to(request.user):
        raise Http404("No such media.")
    return item


def _own_item(request: HttpRequest, case: Case, asset_id: int) -> CaseAsset:
    item = _item(request, case, asset_id)
    if item.added_by_id != request.user.pk:
        raise Http404("No such media.")
    return item


def _media_section(case_id: int) -> str:
    return reverse("case_detail", args=[case_id]) + "#media"


def _back(case: Case) -> str:
    return _media_section(case.pk)


def _back_to(request: HttpRequest, case_id: int, **_url_kwargs: object) -> str:
    """Where a refused media action sends the user (``translate_errors(back=)``
    calls it with the request and the URL's arguments)."""
    return _media_section(case_id)
