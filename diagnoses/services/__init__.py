"""Actions on a case's differential diagnoses and the likelihood votes on them.

Rules (checked through :func:`cases.permissions.case_access`):

- Owner, collaborators and consultants (``can_vote``) propose entries and
  vote. A vote is always the voter's own: 0–100, one per entry and voter,
  changed in place or withdrawn; only entries still under consideration take
  votes.
- Owner and collaborators (``can_edit``) rule entries out, reconsider them,
  confirm one, and reorder the working list. The proposer may also edit or
  remove their own entry while they can vote.
- At most one entry is confirmed. Confirming a second one is refused: the
  first must be reconsidered (un-confirmed) first, which keeps the case's
  final diagnosis from silently changing under someone's feet. Confirming
  sets ``Case.final_diagnosis``; with ``resolve_case`` it also resolves a
  published case (through :func:`diagnoses.services.case_resolve`).
  Reconsidering the confirmed entry clears the final diagnosis and returns a
  resolved case to published.
- Archived cases are read-only.

Every change runs under a lock on the case row, is audited, appends a
:class:`~diagnoses.models.RankingSnapshot` (the ranking's history) and, after
commit, sends this frame to the case's group::

    {"type": "differential.updated",
     "case": <case id>,
     "reason": "add" | "update" | "delete" | "vote" | "rule_out"
               | "reconsider" | "confirm" | "reorder",
     "differential": <id of the entry concerned, null for reorder>,
     "by": {"id": <user id>, "name": <display name>},
     "summary": "<one line, e.g. 'Sam Haddad voted on Psoriasis'>",
     "version": <snapshot id: increases with every change to the case>,
     "final_diagnosis": "<Case.final_diagnosis>",
     "case_status": "<Case.status>",
     "ranking": [<entry>, ... in consensus order]}

    entry = {"id", "label", "icd10", "rationale", "status", "position",
             "rank", "mean", "spread", "voters", "proposer": {"id", "name"} | null,
             "proposer_estimate", "consult": <consult id> | null,
             "decided_by": {"id", "name"} | null, "decided_at": <ISO time> | null}

Individual votes are never broadcast; a client knows its own vote from the
response to its request.

Independent mode (``Case.independent``, on by default for community cases):
while the consensus is hidden (see :func:`diagnoses.selectors.
consensus_hidden`) the frame also carries ``"blind": {"submitted": [voter
ids], "ranking": [<entry without mean, spread, voters, proposer_estimate,
pooled>, ... in working order]}``. The case's WebSocket consumer never
relays ``blind`` itself: a connection whose user is in ``submitted`` gets
the frame without it, every other one gets ``ranking`` replaced by the blind
ranking and ``"hidden": true``. Entries carry ``pooled`` and
``pooled_rank`` (Borda points over submitted rounds) on independent cases.

:func:`differential_round_submit` locks in the voter's round (reason
``"round"``); :func:`differential_consensus_reveal` shows the consensus to

The package, by meaning: :mod:`~diagnoses.services.entries` (propose, edit,
remove, reorder), :mod:`~diagnoses.services.votes` (votes and independent
rounds), :mod:`~diagnoses.services.decisions` (rule out, reconsider,
confirm), :mod:`~diagnoses.services.resolution` (resolving the case), and
what they share in :mod:`~diagnoses.services._common`. Callers import from
here.
"""

from diagnoses.services._common import MAX_LABEL, MAX_RATIONALE
from diagnoses.services.decisions import (
    differential_confirm,
    differential_reconsider,
    differential_rule_out,
)
from diagnoses.services.entries import (
    differential_add,
    differential_delete,
    differential_update,
    differentials_add_from_consult,
    differentials_reorder,
)
from diagnoses.services.resolution import announce_resolution, case_resolve
from diagnoses.services.votes import (
    differential_consensus_reveal,
    differential_independent_set,
    differential_round_submit,
    differential_vote,
)

__all__ = [
    "MAX_LABEL",
    "MAX_RATIONALE",
    "announce_resolution",
    "case_resolve",
    "differential_add",
    "differential_confirm",
    "differential_consensus_reveal",
    "differential_delete",
    "differential_independent_set",
    "differential_reconsider",
    "differential_round_submit",
    "differential_rule_out",
    "differential_update",
    "differential_vote",
    "differentials_add_from_consult",
    "differentials_reorder",
]
