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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from cases.models import (
    AgeBand,
    Case,
    CaseInvitation,
    CaseParticipant,
    JoinRequest,
    Sex,
    Tag,
)
from cases.permissions import case_access
from cases.phi import Finding, finding_key, findings_unresolved, scan_fields
from cases.phi_gate import PHIFound, phi_gate
from workspace import audit
from workspace.errors import InvalidInput
from workspace.events import broadcast_on_commit, case_group
from workspace.markdown import rendered_ahead
from workspace.models import Membership, Notification, Specialty, User, Workspace
from workspace.services import ServiceError, notification_create, require
from workspace.tasks import email_send

__all__ = [
    "CONTENT_FIELDS",
    "DEFAULT_ATTESTATION",
    "INVITABLE_ROLES",
    "KIND_LABELS",
    "MAX_TAGS",
    "SHARING_FIELDS",
    "PHIFound",
    "case_archive",
    "case_create",
    "case_invitation_accept",
    "case_join_request",
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
MAX_TAGS = 10
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
INVITABLE_ROLES = (
    CaseParticipant.Role.COLLABORATOR,
    CaseParticipant.Role.CONSULTANT,
    CaseParticipant.Role.VIEWER,
)


KIND_LABELS = {
    "name": "Name",
    "date": "Date",
    "age": "Age over 89",
    "phone": "Phone",
    "fax": "Fax",
    "email": "Email",
    "url": "Web address",
    "ip": "IP address",
    "record_number": "Record number",
    "ssn": "SSN",
    "address": "Address",
    "zip": "Postcode",
    "device_id": "Device ID",
    "vehicle_id": "Vehicle ID",
    "handle": "Social handle",
    "location": "Town or county",
    "institution": "Institution",
    "employer": "Employer",
}


# --- PHI helpers ----------------------------------------------------------------------


def phi_scan_fields(
    fields: Mapping[str, str], tags: Iterable[str] = ()
) -> list[Finding]:
    """Scan text fields and the tags (as one ``"tags"`` field, comma-joined)."""
    mapping = dict(fields)
    tag_text = ", ".join(tags)
    if tag_text:
        mapping["tags"] = tag_text
    return scan_fields(mapping)


def case_phi_scan(case: Case) -> list[Finding]:
    """Findings over the case's current text fields and tags."""
    return phi_scan_fields(case.text_fields(), [t.name for t in case.tags.all()])


def finding_as_dict(
    finding: Finding, *, dismissed: Collection[str] = (), text: str | None = None
) -> dict[str, Any]:
    """A JSON-ready finding. With ``text`` (the field's value), adds an excerpt.

    The excerpt is ``before``/``match``/``after`` so clients highlight the span
    without recomputing offsets (Python and JavaScript count characters
    differently).
    """
    key = finding_key(finding)
    data: dict[str, Any] = {
        "key": key,
        "field": finding.field,
        "kind": finding.kind,
        "label": KIND_LABELS.get(finding.kind, finding.kind),
        "reason": finding.reason,
        "start": finding.start,
        "end": finding.end,
        "dismissed": key in dismissed,
    }
    if text is not None:
        data["before"] = _clip_left(text[: finding.start])
        data["match"] = text[finding.start : finding.end]
        data["after"] = _clip_right(text[finding.end :])
    return data


def _clip_left(text: str, width: int = 40) -> str:
    return text if len(text) <= width else "…" + text[-width:].lstrip()


def _clip_right(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[:width].rstrip() + "…"


def _scan_record(findings: list[Finding], dismissed: Collection[str]) -> list[dict]:
    # Stored without the matched text: the span and the key are enough to
    # audit the decision, and the scan must not become a copy of identifiers.
    return [finding_as_dict(f, dismissed=dismissed) for f in findings]


def _kinds(findings: Iterable[Finding]) -> dict[str, int]:
    return dict(Counter(f.kind for f in findings))


# --- Validation -----------------------------------------------------------------------


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


_FK_FIELDS = frozenset({"specialty", "workspace"})


def _current(case: Case, name: str) -> Any:
    return getattr(case, f"{name}_id" if name in _FK_FIELDS else name)


def _raw(name: str, value: Any) -> Any:
    return getattr(value, "pk", None) if name in _FK_FIELDS else value


def case_locked(case: Case) -> Case:
    """The case row, locked for the rest of the transaction."""
    return Case.objects.select_for_update().get(pk=case.pk)


def case_announce(case: Case, **extra: Any) -> None:
    """Tell everyone on the case, after commit, that the case changed."""
    broadcast_on_commit(
        case_group(case),
        {
            "type": "case.updated",
            "case": case.pk,
            "status": case.status,
            "visibility": case.visibility,
            **extra,
        },
    )


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
    audit.record(
        actor=owner,
        verb="case.create",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"visibility": visibility},
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

    findings = phi_scan_fields(case.text_fields(), tag_names)
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
            case.phi_scan = _scan_record(findings, given)
            case.phi_dismissed = sorted(keys & given)
            case.phi_scanned_at = case.attested_at = timezone.now()
            case.deid_attestation = attestation.strip()
            case.attested_by = by
            update_fields += [
                "phi_scan",
                "phi_dismissed",
                "phi_scanned_at",
                "deid_attestation",
                "attested_by",
                "attested_at",
            ]
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
        audit.record(
            actor=by,
            verb="case.update",
            target=case,
            case_id=case.pk,
            ip=ip,
            data={"fields": changed, "autosave": autosave},
        )
        case_announce(case, fields=changed)
    return case


@transaction.atomic
def _publish_locked(
    *,
    case: Case,
    by: User,
    attestation: str,
    dismissed: Collection[str],
    ip: str | None,
) -> tuple[Case, list[Finding]]:
    access = case_access(by, case)
    require(access.can_manage, "Only the case owner can publish it.")
    require(
        by.is_verified_clinician,
        "Only verified clinicians can publish cases. Ask staff to verify your registration.",
    )
    case = case_locked(case)
    if case.status != Case.Status.DRAFT:
        raise ServiceError("This case has already been published.")
    problems = _publish_problems(case) | _check_sharing(
        owner=case.owner, visibility=case.visibility, workspace=case.workspace
    )
    if problems:
        raise InvalidInput(problems)
    findings = case_phi_scan(case)
    given = set(dismissed)
    unresolved = findings_unresolved(findings, given)
    if unresolved:
        return case, unresolved
    if not attestation.strip():
        raise InvalidInput({"attestation": "Attest that the case is de-identified."})
    now = timezone.now()
    kept = sorted({finding_key(f) for f in findings} & given)
    case.status = Case.Status.PUBLISHED
    case.published_at = now
    if case.visibility == Case.Visibility.COMMUNITY:
        # Independent differentials by default for community cases (drafts
        # usually start private, before their visibility is chosen); the
        # owner can turn it off on the differential panel.
        case.independent = True
    case.phi_scan = _scan_record(findings, given)
    case.phi_dismissed = kept
    case.phi_scanned_at = now
    case.deid_attestation = attestation.strip()
    case.attested_by = by
    case.attested_at = now
    case.save(
        update_fields=[
            "status",
            "published_at",
            "phi_scan",
            "phi_dismissed",
            "phi_scanned_at",
            "deid_attestation",
            "attested_by",
            "attested_at",
            "independent",
            "updated",
        ]
    )
    audit.record(
        actor=by,
        verb="case.publish",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={
            "visibility": case.visibility,
            "findings": len(findings),
            "dismissed": len(kept),
            "kinds": _kinds(findings),
            "dismissed_keys": kept,
            "attestation": case.deid_attestation,
        },
    )
    case_announce(case)
    return case, []


def case_publish(
    *,
    case: Case,
    by: User,
    attestation: str,
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> Case:
    """Publish a draft through the PHI gate (see the module docstring).

    Only the owner, a verified clinician, publishes. Raises
    :class:`InvalidInput` when required fields or the attestation are missing
    and :class:`PHIFound` (after recording a ``case.publish_blocked`` audit
    event, which survives the refusal) while findings remain unresolved.
    """
    case, unresolved = _publish_locked(
        case=case, by=by, attestation=attestation, dismissed=dismissed, ip=ip
    )
    if unresolved:
        audit.record(
            actor=by,
            verb="case.publish_blocked",
            target=case,
            case_id=case.pk,
            ip=ip,
            data={"unresolved": len(unresolved), "kinds": _kinds(unresolved)},
        )
        raise PHIFound(unresolved)
    return case


@transaction.atomic
def case_join_request(
    *,
    case: Case,
    by: User,
    message: str = "",
    dismissed: Collection[str] = (),
    ip: str | None = None,
) -> JoinRequest:
    """Ask the owner of a case one can see (but not take part in) to join it.

    The owner gets a notification linking to the case's participants, where
    they invite the requester if they agree. Asking again is refused, so an
    owner is not pestered; the request is audited. The message goes to the
    owner, so it passes the PHI gate (surface ``case.join_request``):
    refused while a finding is neither fixed nor in ``dismissed``.
    """
    access = case_access(by, case)
    require(access.can_view, "You can't see this case.")
    require(by.is_verified_clinician, "Only verified clinicians can join a case.")
    case = case_locked(case)
    if case.status != Case.Status.PUBLISHED:
        raise ServiceError("Only an open (published) case takes new participants.")
    if access.role is not None:
        raise ServiceError("You already take part in this case.")
    message = " ".join((message or "").split())[:500]
    if message:
        phi_gate(
            fields={"message": message},
            dismissed=dismissed,
            by=by,
            surface="case.join_request",
            target=case,
            case_id=case.pk,
            ip=ip,
        )
    request, created = JoinRequest.objects.get_or_create(
        case=case, user=by, defaults={"message": message}
    )
    if not created:
        raise ServiceError(
            "You already asked to join; the owner has been told and decides."
        )
    notification_create(
        user=case.owner,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{by.display_name} asks to join your case as a voter",
        body=(message or case.title),
        url=reverse("case_detail", args=[case.pk]) + "#participants",
        data={"case": case.pk, "join_request": request.pk, "user": by.username},
    )
    audit.record(
        actor=by,
        verb="case.join_request",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"message": message},
    )
    return request


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
    audit.record(
        actor=by,
        verb="case.archive",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"from": previous, "moderation": not case_access(by, case).can_manage},
    )
    case_announce(case)
    return case


def case_view_record(*, case: Case, user: User, ip: str | None = None) -> None:
    """Record that ``user`` opened ``case`` (one audit event, nothing else)."""
    audit.record(actor=user, verb="case.view", target=case, case_id=case.pk, ip=ip)


# --- Participants ---------------------------------------------------------------------


@transaction.atomic
def participant_invite(
    *, case: Case, by: User, invitee: User, role: str, ip: str | None = None
) -> CaseParticipant:
    """Add a verified clinician to the case and notify them.

    Only the owner invites; roles are collaborator, consultant or viewer;
    archived cases take no new participants.
    """
    require(case_access(by, case).can_manage, "Only the case owner can invite.")
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    if not invitee.is_verified_clinician:
        raise InvalidInput(
            {"who": "Only verified clinicians can be invited to a case."}
        )
    case = case_locked(case)
    require(
        case.status != Case.Status.ARCHIVED, "Archived cases take no new participants."
    )
    if CaseParticipant.objects.filter(case=case, user=invitee).exists():
        raise InvalidInput(
            {"who": f"{invitee.display_name} already takes part in this case."}
        )
    participant = CaseParticipant.objects.create(
        case=case, user=invitee, role=role, added_by=by
    )
    JoinRequest.objects.filter(case=case, user=invitee).delete()
    notification_create(
        user=invitee,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{by.display_name} added you to a case as {participant.get_role_display().lower()}",
        body=case.title,
        url=reverse("case_detail", args=[case.pk]),
        data={"case": case.pk, "role": role},
    )
    audit.record(
        actor=by,
        verb="case.participant_add",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"user": invitee.username, "role": role},
    )
    case_announce(case, participants=True)
    return participant


@transaction.atomic
def participant_invite_email(
    *,
    case: Case,
    by: User,
    email: str,
    role: str,
    ip: str | None = None,
    url_builder: Callable[[str], str] | None = None,
) -> CaseInvitation:
    """Invite by an address no verified clinician has confirmed: mail a token link.

    The same rules as ``participant_invite``. The mail names neither the case
    nor its content: nobody knows yet who reads that mailbox. Inviting the
    same address again re-sends the open invitation with the new role.
    """
    require(case_access(by, case).can_manage, "Only the case owner can invite.")
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    case = case_locked(case)
    require(
        case.status != Case.Status.ARCHIVED, "Archived cases take no new participants."
    )
    email = email.strip()
    invitation = CaseInvitation.objects.filter(
        case=case, email__iexact=email, status=CaseInvitation.Status.PENDING
    ).first()
    if invitation is None:
        invitation = CaseInvitation.objects.create(
            case=case, invited_by=by, email=email, role=role
        )
    elif invitation.role != role:
        invitation.role = role
        invitation.save(update_fields=["role"])
    path = invitation.get_absolute_url()
    url = url_builder(path) if url_builder else path
    subject = f"{by.display_name} invited you to a case on Consilium"
    body = (
        f"{by.display_name} invited you to take part in a de-identified case on "
        f"Consilium as {invitation.get_role_display().lower()}.\n\n"
        f"Open the invitation (log in or sign up as a clinician first):\n{url}\n\n"
        "Only verified clinicians can join. The link works once.\n"
    )
    transaction.on_commit(
        lambda: email_send.enqueue(subject=subject, body=body, to=[email])
    )
    audit.record(
        actor=by,
        verb="case.invite_email",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"email": email, "role": role},
    )
    return invitation


@transaction.atomic
def case_invitation_accept(
    *, invitation: CaseInvitation, user: User, ip: str | None = None
) -> CaseParticipant:
    """Whoever follows an address invitation's link joins the case, once.

    Only a verified clinician, only while the invitation is open and the case
    not archived. Someone who already takes part keeps their role.
    """
    invitation = CaseInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != CaseInvitation.Status.PENDING:
        raise ServiceError("This invitation is no longer open.")
    require(user.is_verified_clinician, "Only verified clinicians can join a case.")
    case = case_locked(invitation.case)
    require(
        case.status != Case.Status.ARCHIVED, "Archived cases take no new participants."
    )
    invitation.status = CaseInvitation.Status.ACCEPTED
    invitation.accepted_by = user
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "accepted_by", "responded_at"])
    participant = CaseParticipant.objects.filter(case=case, user=user).first()
    if participant is not None:
        return participant
    participant = CaseParticipant.objects.create(
        case=case, user=user, role=invitation.role, added_by=invitation.invited_by
    )
    notification_create(
        user=invitation.invited_by,
        kind=Notification.Kind.CASE_INVITE,
        title=f"{user.display_name} accepted your invitation to a case",
        body=case.title,
        url=reverse("case_detail", args=[case.pk]),
        data={"case": case.pk, "role": invitation.role},
    )
    audit.record(
        actor=user,
        verb="case.participant_add",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={
            "user": user.username,
            "role": invitation.role,
            "invitation": invitation.pk,
        },
    )
    case_announce(case, participants=True)
    return participant


@transaction.atomic
def participant_remove(
    *, participant: CaseParticipant, by: User, ip: str | None = None
) -> None:
    """Remove a participant; the owner removes anyone else, anyone may leave.

    The owner's own participation is permanent.
    """
    case = participant.case
    leaving = participant.user_id == by.pk
    require(
        leaving or case_access(by, case).can_manage,
        "Only the case owner can remove participants.",
    )
    require(
        participant.role != CaseParticipant.Role.OWNER,
        "The owner can't be removed from their case.",
    )
    audit.record(
        actor=by,
        verb="case.participant_leave" if leaving else "case.participant_remove",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"user": participant.user.username, "role": participant.role},
    )
    participant.delete()
    case_announce(case, participants=True)


@transaction.atomic
def participant_change_role(
    *, participant: CaseParticipant, by: User, role: str, ip: str | None = None
) -> CaseParticipant:
    """Change a participant's role (owner only; the owner's role is fixed)."""
    case = participant.case
    require(case_access(by, case).can_manage, "Only the case owner can change roles.")
    require(
        participant.role != CaseParticipant.Role.OWNER,
        "The owner's role can't be changed.",
    )
    if role not in INVITABLE_ROLES:
        raise InvalidInput({"role": "Choose collaborator, consultant or viewer."})
    participant = CaseParticipant.objects.select_for_update().get(pk=participant.pk)
    if participant.role == role:
        return participant
    previous = participant.role
    participant.role = role
    participant.save(update_fields=["role"])
    audit.record(
        actor=by,
        verb="case.participant_role",
        target=case,
        case_id=case.pk,
        ip=ip,
        data={"user": participant.user.username, "from": previous, "to": role},
    )
    case_announce(case, participants=True)
    return participant
