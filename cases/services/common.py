"""What every action on a case shares: the locked case row, the
``case.updated`` announcement, the audit event and the PHI gate for a text
that others on the case will read. Feature apps' services use them too."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from cases.models import (
    Case,
)
from cases.phi_gate import phi_gate
from workspace import audit
from workspace.events import broadcast_on_commit, case_group
from workspace.models import User

__all__ = ["case_announce", "case_event", "case_locked", "case_text_gate"]


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


def case_event(
    *,
    by: User,
    verb: str,
    case: Case,
    target: Any = None,
    ip: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Record ``verb`` by ``by`` in the case's audit trail; the event's target
    is the case itself unless ``target`` names something on it (an asset, a
    differential)."""
    audit.record(
        actor=by,
        verb=verb,
        target=case if target is None else target,
        case_id=case.pk,
        ip=ip,
        data=dict(data) if data else None,
    )


def case_text_gate(
    *,
    by: User,
    case: Case,
    surface: str,
    fields: Mapping[str, str],
    dismissed: Collection[str] = (),
    target: Any = None,
    ip: str | None = None,
) -> list[str]:
    """The PHI gate (:func:`cases.phi_gate.phi_gate`) for texts everyone on
    ``case`` will read: ``fields`` pass only when every finding is fixed or
    in ``dismissed``; a dismissal is audited on ``target`` (default: the
    case) under ``surface``. Returns the dismissed keys that matched."""
    return phi_gate(
        fields=fields,
        dismissed=dismissed,
        by=by,
        surface=surface,
        target=case if target is None else target,
        case_id=case.pk,
        ip=ip,
    )
