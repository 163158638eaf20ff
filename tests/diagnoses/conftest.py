"""Shared case fixtures (cast, doc, pat, doc_client, case_events)."""

from tests.fixtures.cases import *  # noqa: F403
