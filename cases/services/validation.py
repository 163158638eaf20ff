"""Checks on what a case is given: tags, who may see it, its content, and what
it needs before it is published. Each returns field messages, or raises
``InvalidInput`` with them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.text import slugify

from cases.models import (
    AgeBand,
    Case,
    Sex,
    Tag,
)
from workspace.errors import InvalidInput
from workspace.models import Membership, Specialty, User, Workspace

MAX_TAGS = 10


def _tags_from_names(names: Iterable[str]) -> list[Tag]:
    clean: dict[str, str] = {}
    for raw in names:
        name = " ".join(str(raw).split()).strip(" ,#")[:40]
        slug = slugify(name, allow_unicode=True)[:48]
        if slug and slug not in clean:
            clean[slug] = name
    if len(clean) > MAX_TAGS:
        raise InvalidInput({"tags": f"Use at most {MAX_TAGS} tags."})
    existing = {t.slug: t for t in Tag.objects.filter(slug__in=clean)}
    tags = []
    for slug, name in clean.items():
        tag = existing.get(slug)
        if tag is None:
            tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
        tags.append(tag)
    return tags


def _check_sharing(
    *, owner: User, visibility: str, workspace: Workspace | None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if visibility not in Case.Visibility.values:
        errors["visibility"] = "Choose who may see the case."
    if (
        workspace is not None
        and not Membership.objects.filter(workspace=workspace, user=owner).exists()
    ):
        errors["workspace"] = "The case owner is not a member of that workspace."
    if visibility == Case.Visibility.WORKSPACE and workspace is None:
        errors["workspace"] = "Choose the workspace whose members may see the case."
    return errors


def _check_content(values: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if "title" in values and not str(values["title"] or "").strip():
        errors["title"] = "Give the case a title."
    if values.get("age_band") and values["age_band"] not in AgeBand.values:
        errors["age_band"] = "Choose an age band."
    if "sex" in values and values["sex"] not in Sex.values:
        errors["sex"] = "Choose one of the listed options."
    specialty = values.get("specialty")
    if specialty is not None and not isinstance(specialty, Specialty):
        errors["specialty"] = "Choose a specialty from the list."
    return errors


def _publish_problems(case: Case) -> dict[str, str]:
    """What a case needs before colleagues can usefully review it."""
    problems: dict[str, str] = {}
    if not case.title.strip():
        problems["title"] = "Give the case a title before publishing."
    if not case.presenting_complaint.strip():
        problems["presenting_complaint"] = (
            "Describe the presenting complaint before publishing."
        )
    if case.specialty_id is None:
        problems["specialty"] = "Choose a specialty before publishing."
    if not case.age_band:
        problems["age_band"] = "Choose an age band before publishing."
    return problems
