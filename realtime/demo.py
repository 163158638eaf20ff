"""Demo discussion (see ``seed_demo``): topics and messages on the demo cases.

Runs after ``cases.demo``; does nothing when no demo cases exist yet. Every
message goes through ``message_post`` with a fixed ``client_id``, so running
the seeder twice posts nothing new.
"""

from __future__ import annotations

from cases.models import Case
from workspace.demo import Demo
from workspace.services import ServiceError

from .models import Thread
from .services import message_post, thread_create, thread_default

# (topic or None for General, author username, body)
SCRIPT = [
    (
        None,
        "ana",
        "Thanks for looking at this one. The key findings are in the case notes; "
        "@ben, does this match what you saw when they came in?",
    ),
    (
        None,
        "ben",
        "Yes. Symptoms had been building for about **36 hours** before presentation.",
    ),
    (
        None,
        "sam",
        "Before we narrow it down, what changed recently?\n\n"
        "- a new medication\n- a recent infection\n- travel",
    ),
    (None, "ana", "A new medication two weeks ago; nothing else of note."),
    (
        "Investigations",
        "ben",
        "First bloods are in the notes. Repeats are due tomorrow morning.",
    ),
    (
        "Investigations",
        "sam",
        "Worth adding the repeats before we vote on the differentials — "
        "@ana can you update the case when they are back?",
    ),
]


def seed(demo: Demo) -> None:
    users = demo.users
    cases = list(
        Case.objects.filter(owner__username__in=["ana", "ben", "sam"]).order_by("pk")[
            :3
        ]
    )
    if not cases or not all(name in users for name in ("ana", "ben", "sam")):
        return
    for case in cases:
        for n, (topic, username, body) in enumerate(SCRIPT):
            try:
                if topic is None:
                    thread = thread_default(case=case)
                else:
                    thread = Thread.objects.filter(
                        case=case, title__iexact=topic
                    ).first() or thread_create(case=case, by=case.owner, title=topic)
                message_post(
                    case=case,
                    thread=thread,
                    by=users[username],
                    body=body,
                    client_id=f"demo-{case.pk}-{n}",
                )
            except ServiceError as refused:
                # A demo case this author may not comment on: skip the line.
                if demo.stdout:
                    demo.stdout.write(
                        f"  discussion: skipped a line on {case}: {refused}"
                    )
