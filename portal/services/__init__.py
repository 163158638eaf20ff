"""Patients' submissions to their clinician, and findings made of them on cases.

Rules:

- A patient submits only to a clinician they have an active care link with,
  only their own upload, and only with consent (the consent text and time are
  stored with the submission).
- Only the submission's clinician reads, rates, replies to, dismisses or
  attaches it, and only once their registration is verified. Status moves ``submitted → reviewed`` (on the first rating or
  reply) ``→ attached | dismissed``; an attached submission may be attached to
  more differentials. Dismissed or withdrawn ones cannot be attached.
- The patient may withdraw a submission at any point, attached or not;
  consent is then gone, so their file and every case copy are deleted and
  each finding made of it becomes a tombstone ("withdrawn by the patient").
- Attaching needs edit rights on the differential's case (``can_edit``) and a
  case that is not archived. What reaches the case is only de-identified: the
  photo or video as a new, case-grade asset (made from the patient's copy,
  metadata stripped again, faces blurred when asked), the link as its
  canonical URL; never the patient's name, description or original link.

Every action is audited. The clinician is notified of new submissions and
the patient of their clinician's decisions (``Notification.Kind.SUBMISSION``,
pushed live on commit). Attaching also sends ``{"type": "finding.added",
"case", "differential", "finding"}`` to the case's group, and, once a
photo's or video's case copy is ready (or failed), ``{"type":
"finding.updated", ...}`` with the same fields (``submission_media``);
withdrawing sends ``finding.updated`` with ``"withdrawn": true``.

One module per side: ``patient`` (create, withdraw), ``triage`` (open,
rate, reply, dismiss) and ``findings`` (attach); ``_common`` holds what they
share. Import the services from here.
"""

from __future__ import annotations

from cases.phi_gate import PHIFound
from portal.models import CONSENT_TEXT
from portal.services._common import MAX_DESCRIPTION, MAX_NOTE, per_hour_limit
from portal.services.findings import submission_attach
from portal.services.patient import submission_create, submission_withdraw
from portal.services.triage import (
    submission_dismiss,
    submission_open,
    submission_rate,
    submission_reply,
)

__all__ = [
    "CONSENT_TEXT",
    "MAX_DESCRIPTION",
    "MAX_NOTE",
    "PHIFound",
    "per_hour_limit",
    "submission_attach",
    "submission_create",
    "submission_dismiss",
    "submission_open",
    "submission_rate",
    "submission_reply",
    "submission_withdraw",
]
