"""Markdown → safe HTML for everything clinicians type (messages, case notes).

Guarantees of :func:`render_markdown` and :func:`render_inline`:

- Raw HTML in the input is never interpreted: Python-Markdown's raw-HTML
  handling is switched off, so ``<script>`` shows up as the text ``<script>``
  rather than being dropped silently (the author sees what they typed).
- The output only ever contains the tags and attributes in ``ALLOWED_TAGS`` /
  ``ALLOWED_ATTRIBUTES``; bleach enforces this after rendering as a second,
  independent line of defence, so a bug in a Markdown extension cannot smuggle
  markup through.
- Links only keep ``http``, ``https`` and ``mailto`` targets (or relative
  ones); anything else (``javascript:``, ``data:``, ``vbscript:``, entity- or
  case-obfuscated variants) loses its ``href`` and becomes plain text.
- Every link opens in a new tab with ``rel="nofollow noopener noreferrer"``:
  following a link must not tear down the live case page (and its WebSocket),
  must not give the target a handle on ``window.opener``, and must not leak the
  case URL to a third party through the ``Referer`` header.
- Images are not embedded: an external image is a tracking beacon (it tells a
  third party who opened the case and when), so ``![alt](src)`` renders as a
  link to ``src``.
- No ``style`` attributes, so no CSS injection; table alignment uses the
  ``align`` attribute with a fixed set of values instead.

Headings are shifted down two levels (``#`` → ``<h3>``) so a message cannot
shout over the page's own headings.

Nothing here imports Django: the module is used from consumers, services and
management commands alike.
"""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as etree
from functools import partial

import markdown
from bleach.linkifier import LinkifyFilter
from bleach.sanitizer import Cleaner
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.treeprocessors import Treeprocessor

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "INLINE_TAGS",
    "LINK_REL",
    "markdown_to_text",
    "render_inline",
    "render_markdown",
]

INLINE_TAGS = frozenset({"a", "br", "code", "del", "em", "strong"})

ALLOWED_TAGS = INLINE_TAGS | {
    "blockquote",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "li",
    "ol",
    "p",
    "pre",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}

ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

LINK_REL = "nofollow noopener noreferrer"

_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+-]{1,32}")
_ALIGN_VALUES = frozenset({"left", "center", "right"})
# Python-Markdown only emits ``start`` on ordered lists as a number.
_OL_START = re.compile(r"\d{1,9}")


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in {"href", "title"}
    if tag == "code":
        return name == "class" and _LANGUAGE_CLASS.fullmatch(value) is not None
    if tag in {"th", "td"}:
        return name == "align" and value in _ALIGN_VALUES
    if tag == "ol":
        return name == "start" and _OL_START.fullmatch(value) is not None
    return False


ALLOWED_ATTRIBUTES = _allow_attribute

_HEADING_SHIFT = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h6", "h5": "h6"}


class _DemoteHeadingsAndImages(Treeprocessor):
    """Shift headings down and turn images into plain links (see module doc)."""

    def run(self, root: etree.Element) -> None:
        for element in root.iter():
            if element.tag in _HEADING_SHIFT:
                element.tag = _HEADING_SHIFT[element.tag]
            elif element.tag == "img":
                src = element.get("src", "")
                label = element.get("alt") or element.get("title") or src
                element.attrib.clear()
                element.tag = "a"
                element.set("href", src)
                element.text = label


class _ConsiliumExtension(markdown.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Raw HTML is treated as text, not markup (see module doc).
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.register(
            SimpleTagInlineProcessor(r"(~~)(?=\S)(.+?)(?<=\S)~~", "del"), "del", 65
        )
        # After "inline" (20) so images already exist as elements.
        md.treeprocessors.register(_DemoteHeadingsAndImages(md), "consilium", 5)


def _set_link_attributes(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    attrs[(None, "target")] = "_blank"
    return attrs


def _cleaner(tags: frozenset[str] | set[str]) -> Cleaner:
    return Cleaner(
        tags=tags,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        # Linkify inside the sanitizer pass (after sanitizing): a separate
        # bleach.linkify() call re-escapes the text of skipped <code> blocks.
        # The callback also sets rel/target on links the author wrote.
        filters=[
            partial(
                LinkifyFilter,
                callbacks=[_set_link_attributes],
                skip_tags={"pre", "code"},
                parse_email=True,
            )
        ],
    )


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
    return cleaner.clean(md.convert(text)).strip()


def render_markdown(text: str) -> str:
    """Render untrusted Markdown to HTML that is safe to insert into a page.

    Block elements (paragraphs, lists, tables, fenced code, quotes) are kept;
    see the module docstring for what is guaranteed about the output.
    """
    if not text or not text.strip():
        return ""
    return _render(text, _renderer.cleaner)


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
