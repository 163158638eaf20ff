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

Bounded cost (issue 13): every input up to the longest field (20,000
characters) renders in a small fraction of a second. Python-Markdown and
bleach's linkifier were quadratic on some inputs (a minute of CPU for
``'a.-' * 6667`` or ``'[' * 20000``, on the thread every request of the
process shares), so every call goes through one guard, :func:`.guard._guard`:

- Linkify uses linear-time URL and e-mail patterns (:data:`URL_RE`,
  :data:`EMAIL_RE`): a match may only start where a word starts, host labels
  and local parts are bounded by their RFC lengths, and stripping trailing
  punctuation is linear (:class:`_LinkifyFilter`).
- Square brackets that cannot open a link (unmatched ones, and those nested
  more than :data:`MAX_BRACKET_DEPTH` deep) and container markers (list
  bullets, ``>``) nested more than :data:`MAX_CONTAINER_DEPTH` deep are
  swapped for private-use stand-ins before Markdown sees them and swapped
  back in the HTML, so they show exactly as typed, also inside code, but
  cost nothing to parse.
- A link's ``(destination "title")`` is looked for only up to the next
  ``[`` (Python-Markdown otherwise rescans to the end of the paragraph for
  every ``[text](``).
- Python-Markdown's code-span finder, table test and fenced-code search and
  bleach's tree walker are replaced by linear versions with the same
  results (:class:`_BacktickProcessor`, :class:`_TableProcessor`,
  :class:`_FenceSearch`, :class:`_TreeWalker`).
- If the parser still runs out of stack, the text is shown as plain text.

Rendering is also done once, before the write transaction that stores it
(see :func:`rendered_ahead`), never per page view.

Nothing here imports Django: the package is used from consumers, services
and management commands alike.

Where things are: :mod:`.policy` (what the output may contain),
:mod:`.extension` (the Python-Markdown extension and its linear processors),
:mod:`.guard` (the stand-ins), :mod:`.sanitizer` (bleach's pass and linkify)
and :mod:`.rendering` (the entry points). Import them from this package.
"""

from .guard import MAX_BRACKET_DEPTH, MAX_CONTAINER_DEPTH
from .guard import _guard as _guard
from .policy import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    INLINE_TAGS,
    LINK_REL,
)
from .rendering import (
    markdown_to_text,
    prerendered,
    render_inline,
    render_markdown,
    rendered_ahead,
)
from .sanitizer import EMAIL_RE, URL_RE

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "EMAIL_RE",
    "INLINE_TAGS",
    "LINK_REL",
    "MAX_BRACKET_DEPTH",
    "MAX_CONTAINER_DEPTH",
    "URL_RE",
    "markdown_to_text",
    "prerendered",
    "render_inline",
    "render_markdown",
    "rendered_ahead",
]
