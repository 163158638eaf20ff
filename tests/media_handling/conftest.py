"""Fixtures shared by the media tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it queued on commit (the task, deletions)."""

    def call(service, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**kwargs)

    return call
