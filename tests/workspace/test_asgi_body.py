"""The request body limit and chunk joining in front of Django (workspace.asgi_body)."""

from __future__ import annotations

import asyncio
import json

from django.test import override_settings

from workspace.asgi_body import RequestBodyLimit


def _run(app, *, chunks: list[bytes], headers: list[tuple[bytes, bytes]]):
    """Drive one HTTP request through ``app``; returns (sent messages, bodies seen)."""
    incoming = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/x/", "headers": headers}
    asyncio.run(app(scope, receive, send))
    return sent


def _echo_app(seen: list[bytes]):
    async def app(scope, receive, send):
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@override_settings(REQUEST_BODY_MAX_BYTES=100)
def test_declared_oversize_body_is_refused_with_a_json_413_before_the_app_runs():
    seen: list[bytes] = []
    sent = _run(
        RequestBodyLimit(_echo_app(seen)),
        chunks=[b"x" * 10],
        headers=[(b"content-length", b"200"), (b"accept", b"application/json")],
    )
    assert sent[0]["status"] == 413
    payload = json.loads(sent[1]["body"])
    assert payload["ok"] is False and payload["max_bytes"] == 100
    assert "upload session" in payload["error"]
    assert seen == []


@override_settings(REQUEST_BODY_MAX_BYTES=100)
def test_undeclared_body_growing_past_the_limit_is_refused_as_html_for_browsers():
    seen: list[bytes] = []
    sent = _run(
        RequestBodyLimit(_echo_app(seen)),
        chunks=[b"x" * 60, b"y" * 60],
        headers=[(b"accept", b"text/html")],
    )
    assert sent[0]["status"] == 413
    assert b"Request too large" in sent[1]["body"]


@override_settings(REQUEST_BODY_MAX_BYTES=1000)
def test_small_pieces_reach_django_joined_and_complete():
    seen: list[bytes] = []
    sent = _run(
        RequestBodyLimit(_echo_app(seen)),
        chunks=[b"a" * 8, b"b" * 8, b"c" * 8],
        headers=[(b"content-length", b"24")],
    )
    assert sent[0]["status"] == 200
    assert b"".join(seen) == b"a" * 8 + b"b" * 8 + b"c" * 8
    assert len([s for s in seen if s]) == 1  # three pieces, one joined chunk
