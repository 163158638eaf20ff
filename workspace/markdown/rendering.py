"""Rendering: one Markdown and one Cleaner per thread, behind the guard.

:func:`render_markdown`, :func:`render_inline` and :func:`markdown_to_text`
render; :func:`prerendered` and :func:`rendered_ahead` render before a write
transaction so that inside it rendering is a lookup.
"""

from __future__ import annotations

import contextvars
import html
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps

import markdown
from bleach.sanitizer import Cleaner

from .extension import _ConsiliumExtension
from .guard import _guard, _unguard
from .policy import ALLOWED_TAGS, INLINE_TAGS
from .sanitizer import _cleaner


def _plain(text: str) -> str:
    """Escaped text in one paragraph: the fallback when Markdown gives up."""
    body = html.escape(text.strip(), quote=False).replace("\n", "<br>\n")
    return f"<p>{body}</p>"


class _Renderer(threading.local):
    """One Markdown and Cleaner set per thread: neither is thread-safe."""

    def __init__(self) -> None:
        self.md = markdown.Markdown(
            extensions=[
                "fenced_code",
                "tables",
                "sane_lists",
                "nl2br",
                _ConsiliumExtension(),
            ],
            extension_configs={"tables": {"use_align_attribute": True}},
            output_format="html",
        )
        self.cleaner = _cleaner(ALLOWED_TAGS)
        self.inline_cleaner = _cleaner(INLINE_TAGS - {"br"})


_renderer = _Renderer()

# A line starting like a block (heading, quote, list item, rule) would lose its
# marker when block tags are stripped; escaping the marker keeps it as typed.
_BLOCK_START = re.compile(r"^(?:[#>]|[-+*](?=\s)|([-*_])(?=(?:\s*\1){2,}\s*$))")
_NUMBERED_ITEM = re.compile(r"^(\d+)([.)])(?=\s)")


def _render(text: str, cleaner: Cleaner) -> str:
    md = _renderer.md
    md.reset()
    try:
        converted = md.convert(_guard(text))
    except RecursionError:
        md.reset()
        return _plain(text)
    return _unguard(cleaner.clean(converted)).strip()


# Texts rendered ahead of a write transaction (see prerendered()).
_ahead: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "markdown_rendered_ahead", default=None
)


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to HTML that is safe to insert into a page.

    Block elements (paragraphs, lists, tables, fenced code, quotes) are kept;
    see the module docstring for what is guaranteed about the output.
    Inside :func:`prerendered` a text rendered ahead is not rendered again.
    """
    if not text or not text.strip():
        return ""
    ahead = _ahead.get()
    if ahead is not None and text in ahead:
        return ahead[text]
    return _render(text, _renderer.cleaner)


@contextmanager
def prerendered(texts: Iterable[object]) -> Iterator[None]:
    """Render ``texts`` now; inside the block, rendering them is a lookup.

    For services that store rendered HTML: rendering is the slow part of a
    save, so it happens before the write transaction opens (and holds locks,
    or SQLite's single writer lock), not inside it. Non-strings are ignored.
    """
    cache = dict(_ahead.get() or {})
    for text in texts:
        if isinstance(text, str) and text.strip() and text not in cache:
            cache[text] = _render(text, _renderer.cleaner)
    token = _ahead.set(cache)
    try:
        yield
    finally:
        _ahead.reset(token)


def rendered_ahead(
    *sources: str | Callable[[Mapping[str, object]], Iterable[object]],
    strip: bool = False,
):
    """Decorate a keyword-only service so its Markdown renders before it runs.

    Put it above ``@transaction.atomic``. Each source is the name of a
    keyword argument holding Markdown, or a function of the keyword arguments
    returning texts; ``strip=True`` when the service stores ``text.strip()``.
    """

    def texts(kwargs: Mapping[str, object]) -> Iterator[object]:
        for source in sources:
            values = source(kwargs) if callable(source) else [kwargs.get(source)]
            for value in values:
                yield value.strip() if strip and isinstance(value, str) else value

    def decorate(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            with prerendered(texts(kwargs)):
                return func(*args, **kwargs)

        return wrapper

    return decorate


def render_inline(text: str) -> str:
    """Render one line of Markdown (titles, labels) with inline markup only.

    Emphasis, code, strikethrough and links survive; block structure is
    flattened to text and line breaks become spaces. Same safety guarantees
    as :func:`render_markdown`.
    """
    if not text or not text.strip():
        return ""
    one_line = " ".join(text.split())
    one_line = _BLOCK_START.sub(r"\\\g<0>", one_line, count=1)
    one_line = _NUMBERED_ITEM.sub(r"\1\\\2", one_line, count=1)
    return _render(one_line, _renderer.inline_cleaner)


_INLINE_NAMES = "|".join(sorted(INLINE_TAGS - {"br"}))
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_NAMES})\b[^>]*>")
_ANY_TAG = re.compile(r"<[^>]*>")


def markdown_to_text(text: str) -> str:
    """One line of plain text for previews (notification lists, toasts, e-mails).

    Markup is rendered and then dropped, so ``**sepsis**`` previews as
    ``sepsis`` and a list as its items; inline tags vanish without a gap,
    block boundaries become one space, and entities are decoded (the caller
    escapes the text for wherever it goes).
    """
    rendered = render_markdown(text)
    if not rendered:
        return ""
    flat = _ANY_TAG.sub(" ", _INLINE_TAG.sub("", rendered))
    return " ".join(html.unescape(flat).split())
