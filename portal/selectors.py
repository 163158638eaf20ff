"""Read queries for patient submissions and the findings made of them.

Visibility, in one place:

- a patient sees only their own submissions (``submissions_for_patient``,
  ``submission_get_for_patient``), never a case;
- a clinician sees only submissions sent to them
  (``submissions_for_inbox``, ``submission_get_for_clinician``);
- the patient's copy of a file is served to those two people only
  (``submission_get_for_media``);
- a case participant sees findings only as ``FindingView``: the case-grade
  asset, canonical URL (built from the content id alone; none for share
  links), relation, note and who attached it, never the submission, its
  patient, description or original link (``findings_for_differentials``,
  ``finding_get_for_media``); a withdrawn finding is a tombstone with none of
  these.

Lookups that fail raise ``Http404``, so ids of other people's submissions
never leak.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from cases.models import Case, CaseAsset, CaseParticipant
from cases.permissions import EDIT_ROLES
from cases.selectors import case_get_for, cases_visible_to
from diagnoses.models import Differential
from portal.models import FindingLink, SocialLink, Submission
from workspace.models import User

__all__ = [
    "FindingView",
    "InboxCounts",
    "attachable_differentials",
    "finding_get_for_media",
    "findings_for_case",
    "findings_for_differentials",
    "inbox_counts",
    "submission_get_for_clinician",
    "submission_get_for_media",
    "submission_get_for_patient",
    "submissions_for_inbox",
    "submissions_for_patient",
]


def _submissions() -> QuerySet[Submission]:
    return Submission.objects.select_related(
        "patient", "clinician", "clinician__clinician_profile", "asset", "link"
    )


# --- Patient --------------------------------------------------------------------------


def submissions_for_patient(patient: User) -> QuerySet[Submission]:
    """The patient's own submissions, newest first."""
    if not patient.is_authenticated or not patient.is_patient:
        return Submission.objects.none()
    return _submissions().filter(patient=patient)


def submission_get_for_patient(patient: User, pk: int) -> Submission:
    submission = submissions_for_patient(patient).filter(pk=pk).first()
    if submission is None:
        raise Http404("No such submission.")
    return submission


# --- Clinician ------------------------------------------------------------------------

INBOX_FILTERS = {
    "open": Q(status__in=[Submission.Status.SUBMITTED, Submission.Status.REVIEWED]),
    "unread": Q(read_at__isnull=True) & ~Q(status=Submission.Status.WITHDRAWN),
    "attached": Q(status=Submission.Status.ATTACHED),
    "closed": Q(status__in=[Submission.Status.DISMISSED, Submission.Status.WITHDRAWN]),
    "all": Q(),
}


def submissions_for_inbox(
    clinician: User, *, show: str = "all", patient_id: int | None = None
) -> QuerySet[Submission]:
    """Submissions sent to ``clinician``, newest first, optionally filtered."""
    if not clinician.is_authenticated or not clinician.is_clinician:
        return Submission.objects.none()
    qs = _submissions().filter(clinician=clinician)
    qs = qs.filter(INBOX_FILTERS.get(show, Q()))
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    return qs


def submission_get_for_clinician(clinician: User, pk: int) -> Submission:
    submission = submissions_for_inbox(clinician).filter(pk=pk).first()
    if submission is None:
        raise Http404("No such submission.")
    return submission


@dataclass(frozen=True)
class InboxCounts:
    unread: int
    open: int
    total: int


def inbox_counts(clinician: User) -> InboxCounts:
    """Unread (never opened, not withdrawn), open and total; one query."""
    if not clinician.is_authenticated or not clinician.is_clinician:
        return InboxCounts(0, 0, 0)
    row = Submission.objects.filter(clinician=clinician).aggregate(
        unread=Count("pk", filter=INBOX_FILTERS["unread"]),
        open=Count("pk", filter=INBOX_FILTERS["open"]),
        total=Count("pk"),
    )
    return InboxCounts(row["unread"], row["open"], row["total"])


def submission_get_for_media(user: User, pk: int) -> Submission:
    """A submission whose patient copy ``user`` may see: its patient or clinician."""
    if not user.is_authenticated:
        raise Http404("No such submission.")
    submission = (
        Submission.objects.select_related("asset")
        .filter(Q(patient=user) | Q(clinician=user), pk=pk)
        .first()
    )
    if submission is None or submission.asset is None:
        raise Http404("No such file.")
    return submission


def attachable_differentials(clinician: User) -> list[tuple[Case, list[Differential]]]:
    """Differentials of the cases ``clinician`` may edit, grouped by case.

    Cases they own or collaborate on, visible to them, not archived; newest
    case first. Two queries.
    """
    if not clinician.is_authenticated or not clinician.is_clinician:
        return []
    editing = CaseParticipant.objects.filter(
        user=clinician, role__in=EDIT_ROLES
    ).values("case_id")
    cases = list(
        cases_visible_to(clinician)
        .filter(Q(owner=clinician) | Q(pk__in=editing))
        .exclude(status=Case.Status.ARCHIVED)
        .order_by("-updated", "-pk")[:50]
    )
    by_case: dict[int, list[Differential]] = defaultdict(list)
    for entry in Differential.objects.filter(case__in=cases).order_by("position", "pk"):
        by_case[entry.case_id].append(entry)
    return [(case, by_case[case.pk]) for case in cases if by_case[case.pk]]


# --- Findings on cases ----------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    """What a case participant may see of a finding; nothing about the patient."""

    id: int
    case_id: int
    differential_id: int
    relation: str
    relation_label: str
    note: str
    added_by: str
    created: datetime
    platform: str
    platform_label: str
    canonical_url: str
    embed_url: str
    asset_kind: str
    asset_status: str
    asset_ready: bool
    media_url: str
    poster_url: str
    withdrawn_at: datetime | None = None

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def has_link(self) -> bool:
        return bool(self.canonical_url)

    @property
    def link_private(self) -> bool:
        """A link whose only safe form is none: the case shows its platform."""
        return bool(self.platform) and not self.canonical_url

    @property
    def has_media(self) -> bool:
        return bool(self.asset_kind)

    @property
    def is_video(self) -> bool:
        return self.asset_kind == "video"


def _finding_media_url(finding: FindingLink, role: str) -> str:
    return reverse("finding_media", args=[finding.case_id, finding.pk, role])


def _about(finding: FindingLink) -> dict:
    """What every view of a finding shows, withdrawn or not: where it sits,
    how it relates, who added it and when."""
    by = finding.created_by
    return {
        "id": finding.pk,
        "case_id": finding.case_id,
        "differential_id": finding.differential_id,
        "relation": finding.relation,
        "relation_label": finding.get_relation_display(),
        "added_by": by.display_name if by else "A former member",
        "created": finding.created,
    }


def _tombstone(finding: FindingLink) -> FindingView:
    return FindingView(
        **_about(finding),
        note="",
        platform="",
        platform_label="",
        canonical_url="",
        embed_url="",
        asset_kind="",
        asset_status="",
        asset_ready=False,
        media_url="",
        poster_url="",
        withdrawn_at=finding.withdrawn_at,
    )


def _view(finding: FindingLink) -> FindingView:
    if finding.withdrawn_at is not None:
        # Whatever the row may still hold, a withdrawn finding shows nothing.
        return _tombstone(finding)
    asset = finding.asset
    platform_label = (
        SocialLink.Platform(finding.platform).label if finding.platform else ""
    )
    media_url = poster_url = ""
    # Shown once the clinician has reviewed and released the case copy.
    ready = bool(
        asset is not None and asset.is_ready and getattr(finding, "copy_released", True)
    )
    if ready:
        main = "video" if asset.kind == "video" else "display"
        media_url = _finding_media_url(finding, main)
        # A small still for the list: the thumbnail, else the poster.
        still = next((r for r in ("thumb", "poster") if asset.rendition_name(r)), None)
        poster_url = _finding_media_url(finding, still) if still else ""
    return FindingView(
        **_about(finding),
        note=finding.note,
        platform=finding.platform,
        platform_label=platform_label,
        canonical_url=finding.canonical_url,
        embed_url=finding.embed_url,
        asset_kind=asset.kind if asset else "",
        asset_status=asset.status if asset else "",
        asset_ready=ready,
        media_url=media_url,
        poster_url=poster_url,
    )


def _findings() -> QuerySet[FindingLink]:
    # Deliberately no select_related("submission"): nothing of the patient's
    # record is loaded for a case page.
    # The copy shows through its gallery item only, released and ready: the
    # same rule as every other media route (``CaseAsset.objects.shown_to_case``).
    released = CaseAsset.objects.shown_to_case().filter(
        case_id=OuterRef("case_id"), asset_id=OuterRef("asset_id")
    )
    return (
        FindingLink.objects.select_related("asset", "created_by")
        .annotate(copy_released=Exists(released))
        .only(
            "id",
            "case_id",
            "differential_id",
            "relation",
            "note",
            "created",
            "platform",
            "canonical_url",
            "embed_url",
            "withdrawn_at",
            "asset__id",
            "asset__kind",
            "asset__status",
            "asset__renditions",
            "created_by__id",
            "created_by__username",
            "created_by__first_name",
            "created_by__last_name",
        )
    )


def findings_for_differentials(
    differential_ids: Iterable[int], viewer: User | None = None
) -> dict[int, list[FindingView]]:
    """Findings on each differential id, oldest first, in one query.

    The caller has already decided ``viewer`` may see the case these entries
    belong to (the case page does); ``viewer`` is accepted so the contract
    can tighten without changing call sites. Entries without findings are
    missing from the result.
    """
    ids = [int(pk) for pk in differential_ids]
    result: dict[int, list[FindingView]] = defaultdict(list)
    if not ids:
        return {}
    for finding in _findings().filter(differential_id__in=ids):
        result[finding.differential_id].append(_view(finding))
    return dict(result)


def findings_for_case(case: Case) -> dict[int, list[FindingView]]:
    """All findings of a case by differential id, in one query."""
    result: dict[int, list[FindingView]] = defaultdict(list)
    for finding in _findings().filter(case=case):
        result[finding.differential_id].append(_view(finding))
    return dict(result)


def finding_get_for_media(user: User, case_id: int, pk: int) -> FindingLink:
    """A finding with a case-grade asset, if ``user`` may see its case (else 404)."""
    case, _access = case_get_for(user, case_id)
    finding = (
        FindingLink.objects.select_related("asset")
        .filter(case=case, pk=pk, asset__isnull=False, withdrawn_at__isnull=True)
        .first()
    )
    if finding is None:
        raise Http404("No such finding.")
    return finding
