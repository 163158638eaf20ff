"""Specialist consults: request, accept, decline, answer, close, cancel.

States::

    requested ──accept──▶ accepted ──answer──▶ answered ──close──▶ closed
        │                    │
        ├──decline───────────┴──decline──▶ declined
        └──cancel────────────┴──cancel───▶ cancelled

Who may do what is :func:`consults.selectors.consult_access`; every
function here re-reads the consult under a lock on the case row and checks it
again, so two specialists accepting at once cannot both win, and an illegal
step (answering a declined consult, accepting twice) raises ``ServiceError``
with a message that says why.

- A request names a specialty, a specialist, or both. A specialty-wide
  request is open to every verified clinician who lists that specialty;
  declining it ends it (the requester may ask again).
- Accepting makes the specialist a ``consultant`` participant of that one case
  (a viewer is promoted and later returned to viewer). Closing, cancelling or
  declining ends that access again, unless the owner keeps them on when
  closing, or another active consult still needs them there.
- The answer is structured: impression (required), recommendations,
  follow-up, and suggested diagnoses added to the case's differential list
  attributed to the specialist (see
  :func:`diagnoses.services.differentials_add_from_consult`).
- Only a published (or resolved) case takes a consult: a draft's text has
  not been through the PHI gate, and the specialist reads its title and
  complaint before accepting.
- Every text the other side reads (the question, the decline and cancel
  reasons, the answer and its suggested diagnoses) passes the PHI gate
  (:func:`cases.phi_gate.phi_gate`) first: nothing is stored, notified or
  broadcast while a finding is neither edited away nor dismissed by key.
- Every step appends a :class:`~consults.models.ConsultEvent`, is audited,
  notifies the other side (``Notification.Kind.CONSULT``, pushed live on
  ``/ws/notifications/``) and sends ``{"type": "consult.updated", "case": id,
  "consult": {"id", "status", "urgency", "due_at", "target"}}`` to the case's
  group.

The package: :mod:`~consults.services.requester` (request, close, cancel),
:mod:`~consults.services.specialist` (accept, decline, answer),
:mod:`~consults.services.access` (the consultant access a consult gives and
ends) and what they share in :mod:`~consults.services._common`. Callers
import from here.
"""

from consults.services._common import MAX_TEXT, NOTIFY_SPECIALISTS_MAX
from consults.services.requester import (
    DRAFT_REFUSAL,
    consult_cancel,
    consult_close,
    consult_request,
    due_default,
)
from consults.services.specialist import consult_accept, consult_answer, consult_decline

__all__ = [
    "DRAFT_REFUSAL",
    "MAX_TEXT",
    "NOTIFY_SPECIALISTS_MAX",
    "consult_accept",
    "consult_answer",
    "consult_cancel",
    "consult_close",
    "consult_decline",
    "consult_request",
    "due_default",
]
