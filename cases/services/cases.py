"""Actions on cases: create, edit, publish through the PHI gate, resolve,
archive, and manage who takes part.

Every function here checks the actor's rights through
:func:`cases.permissions.case_access`, writes an ``AuditEvent`` and, for
changes others may be watching, announces ``{"type": "case.updated", ...}`` to
the case's group after commit.

The PHI gate: a case leaves draft only through :func:`case_publish`, which
scans every text field and the tags with :mod:`cases.phi`. Each finding must be
edited away or dismissed explicitly (by :func:`cases.phi.finding_key`), and the
publisher attests that the case is de-identified; the scan, the dismissals and
the attestation are stored on the case and in the audit trail. Edits to a case
that others can already see pass the same gate (:func:`case_update`).

This module holds a case's lifecycle; who takes part is in
:mod:`cases.services.participants`, PHI findings in
:mod:`cases.services.findings` and the input checks in
:mod:`cases.services.validation`. Their public names are importable from here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import Case, CaseParticipant, Sex
from cases.permissions import case_access
from cases.phi import finding_key, findings_unresolved
from cases.phi_gate import PHIFound
from workspace.errors import InvalidInput
from workspace.markdown import rendered_ahead
from workspace.models import Specialty, User, Workspace
from workspace.services import require

from .common import case_announce, case_event, case_locked
from .findings import (
    KIND_LABELS,
    _attest,
    case_phi_scan,
    finding_as_dict,
    phi_scan_fields,
)
from .participants import (
    INVITABLE_ROLES,
    case_invitation_accept,
    case_join_request,
    participant_change_role,
    participant_invite,
    participant_invite_email,
    participant_remove,
)
from .publishing import case_publish
from .validation import (
    MAX_TAGS,
    _check_content,
    _check_sharing,
    _tags_from_names,
)

__all__ = [
    "CONTENT_FIELDS",
    "DEFAULT_ATTESTATION",
    "INVITABLE_ROLES",
    "KIND_LABELS",
    "MAX_TAGS",
    "SHARING_FIELDS",
    "PHIFound",
    "case_announce",
    "case_archive",
    "case_create",
    "case_invitation_accept",
    "case_join_request",
    "case_locked",
    "case_phi_scan",
    "case_publish",
    "case_update",
    "case_view_record",
    "finding_as_dict",
    "participant_change_role",
    "participant_invite",
    "participant_invite_email",
    "participant_remove",
    "phi_scan_fields",
]


DEFAULT_ATTESTATION = (
    "I have reviewed every field, the tags and the attached media of this case. "
    "It contains none of the HIPAA Safe Harbor identifiers of the patient, their "
    "relatives, employers or household members, and I have no actual knowledge "
    "that the remaining information could identify the patient."
)


# Fields a collaborator may change; SHARING_FIELDS only the owner.
CONTENT_FIELDS = (
    "title",
    "specialty",
    "age_band",
    "sex",
    "presenting_complaint",
    "history",
    "examination",
    "investigations",
    "working_notes",
    "tags",
)
SHARING_FIELDS = ("visibility", "workspace")


_FK_FIELDS = frozenset({"specialty", "workspace"})


def _current(case: Case, name: str) -> Any:
    return getattr(case, f"{name}_id" if name in _FK_FIELDS else name)


def _raw(name: str, value: Any) -> Any:
    return getattr(value, "pk", None) if name in _FK_FIELDS else value


# --- Case lifecycle -------------------------------------------------------------------


@rendered_ahead(*Case.MARKDOWN_FIELDS)
@transaction.atomic
def case_create(
    *,
    owner: User,
    title: str,
    specialty: Specialty | None = None,
    age_band: str = "",
    sex: str = Sex.UNKNOWN,
    presenting_complaint: str = "",
    history: str = "",
    examination: str = "",
    investigations: str = "",
    working_notes: str = "",
    tags: Iterable[str] = (),
    visibility: str = Case.Visibility.PRIVATE,
    workspace: Workspace | None = None,
    independent: bool | None = None,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Case:
    """Create a draft owned by ``owner``, who becomes its owner participant.

    ``independent`` (independent differentials) defaults to on for
    community cases and off otherwise.

    Drafts are not scanned for PHI here; they are visible to participants only.
    Raises :class:`InvalidInput` with field messages for bad input.
    """
    require(
        owner.is_authenticated and owner.is_clinician,
        "Only clinicians can create cases.",
    )
    content = {
        "title": title,
        "specialty": specialty,
        "age_band": age_band,
        "sex": sex,
    }
    errors = _check_content(content) | _check_sharing(
        owner=owner, visibility=visibility, workspace=workspace
    )
    if errors:
        raise InvalidInput(errors)
    tag_objects = _tags_from_names(tags)
    case = Case(
        owner=owner,
        workspace=workspace,
        title=title.strip(),
        specialty=specialty,
        age_band=age_band,
        sex=sex,
        presenting_complaint=presenting_complaint,
        history=history,
        examination=examination,
        investigations=investigations,
        working_notes=working_notes,
        visibility=visibility,
        independent=(
            visibility == Case.Visibility.COMMUNITY
            if independent is None
            else independent
        ),
    )
    case.save()
    case.tags.set(tag_objects)
    if dismissed:
        keys = {finding_key(f) for f in case_phi_scan(case)}
        case.phi_dismissed = sorted(keys & set(dismissed))
        case.save(update_fields=["phi_dismissed"])
    CaseParticipant.objects.create(
        case=case, user=owner, role=CaseParticipant.Role.OWNER, added_by=owner
    )
    case_event(
        by=owner, verb="case.create", case=case, ip=ip, data={"visibility": visibility}
    )
    return case


def _changed_markdown(kwargs: Mapping[str, Any]) -> list[str]:
    """The Markdown texts ``case_update`` will store (rendered before it runs)."""
    case, changes = kwargs["case"], kwargs["changes"]
    return [
        value
        for name in Case.MARKDOWN_FIELDS
        if (value := changes.get(name)) is not None and value != getattr(case, name)
    ]


@rendered_ahead(_changed_markdown)
@transaction.atomic
def case_update(
    *,
    case: Case,
    by: User,
    changes: Mapping[str, Any],
    dismissed: Collection[str] | None = None,
    attestation: str = "",
    autosave: bool = False,
    ip: str | None = None,
) -> Case:
    """Apply ``changes`` (a subset of CONTENT_FIELDS and SHARING_FIELDS).

    Owner and collaborators edit content; only the owner changes who may see
    the case. Archived cases are read-only. A draft saves whatever it is given
    (its PHI dismissals too, when ``dismissed`` is passed). A case others can
    already see passes the PHI gate again: nothing is saved while a finding
    is neither fixed nor in ``dismissed``, and the editor must attest again
    (``attestation``), which replaces the stored attestation.
    Returns the fresh case.
    """
    access = case_access(by, case)
    require(access.can_edit, "You can't edit this case.")
    case = case_locked(case)
    require(case.status != Case.Status.ARCHIVED, "Archived cases can't be edited.")
    unknown = set(changes) - set(CONTENT_FIELDS) - set(SHARING_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    sharing = {k: v for k, v in changes.items() if k in SHARING_FIELDS}
    if any(_current(case, k) != _raw(k, v) for k, v in sharing.items()):
        require(access.can_manage, "Only the owner can change who sees the case.")

    errors = _check_content(changes)
    if sharing:
        errors |= _check_sharing(
            owner=case.owner,
            visibility=sharing.get("visibility", case.visibility),
            workspace=sharing.get("workspace", case.workspace),
        )
    if errors:
        raise InvalidInput(errors)

    changed: list[str] = []
    for name, value in changes.items():
        if name == "tags":
            continue
        if name == "title":
            value = str(value).strip()
        if _current(case, name) != _raw(name, value):
            setattr(case, name, value)
            changed.append(name)
    tag_objects = None
    if "tags" in changes:
        tag_objects = _tags_from_names(changes["tags"])
        if {t.pk for t in tag_objects} != set(case.tags.values_list("pk", flat=True)):
            changed.append("tags")
    tag_names = (
        [t.name for t in tag_objects]
        if tag_objects is not None
        else [t.name for t in case.tags.all()]
    )

    findings = phi_scan_fields(case.text_fields(), tags=tag_names)
    keys = {finding_key(f) for f in findings}
    update_fields = [*changed]
    if not case.is_draft:
        given = set(dismissed or ())
        unresolved = findings_unresolved(findings, given)
        if unresolved:
            raise PHIFound(unresolved)
        if changed:
            if not attestation.strip():
                raise InvalidInput(
                    {"attestation": "Confirm the edited case is still de-identified."}
                )
            update_fields += _attest(
                case, by, findings, given, attestation, timezone.now()
            )
    elif dismissed is not None:
        kept = sorted(keys & set(dismissed))
        if kept != sorted(case.phi_dismissed):
            case.phi_dismissed = kept
            update_fields.append("phi_dismissed")

    fields_to_save = [f for f in update_fields if f != "tags"]
    if fields_to_save:
        case.save(update_fields=[*fields_to_save, "updated"])
    if tag_objects is not None and "tags" in changed:
        case.tags.set(tag_objects)
        if not fields_to_save:
            case.save(update_fields=["updated"])
    if changed:
        case_event(
            by=by,
            verb="case.update",
            case=case,
            ip=ip,
            data={"fields": changed, "autosave": autosave},
        )
        case_announce(case, fields=changed)
    return case


@transaction.atomic
def case_archive(*, case: Case, by: User, ip: str | None = None) -> Case:
    """Archive a case: read-only, visible to its participants only.

    The owner archives; so may staff, to take down a case at once (say, one
    found to carry an identifier), and the audit event names them.
    """
    require(
        by.is_staff or case_access(by, case).can_manage,
        "Only the case owner can archive it.",
    )
    case = case_locked(case)
    if case.status == Case.Status.ARCHIVED:
        return case
    previous = case.status
    case.status = Case.Status.ARCHIVED
    case.save(update_fields=["status", "updated"])
    case_event(
        by=by,
        verb="case.archive",
        case=case,
        ip=ip,
        data={"from": previous, "moderation": not case_access(by, case).can_manage},
    )
    case_announce(case)
    return case


def case_view_record(*, case: Case, user: User, ip: str | None = None) -> None:
    """Record that ``user`` opened ``case`` (one audit event, nothing else)."""
    case_event(by=user, verb="case.view", case=case, ip=ip)
