"""Validating a pasted link and splitting it into scheme, host, port, path
and query (see ``portal.social_links``: what is rejected, and why).

Nothing here imports Django.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


class SocialLinkError(ValueError):
    """The text is not a link that can be accepted; the message says why."""


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
# Dotted, decimal, octal and hex spellings of an IPv4 address all resolve.
_NUMERIC_HOST = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+))*$")

_IP_LITERAL = (
    "Links to a bare IP address can't be accepted; "
    "please share the link from the app or website."
)
_BAD_HOST = "The website name in the link is not valid."
_BAD_PORT = "The port number in the link is not valid."


def _has_bad_character(text: str) -> bool:
    # Whitespace, controls and invisible format characters (zero-width space,
    # bidi overrides) can make a link display differently from where it goes.
    return any(
        ch.isspace() or unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp", "Zs"}
        for ch in text
    )


def _normalise_host(raw_host: str) -> str:
    host = raw_host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise SocialLinkError("The link has no website name in it.")
    if _NUMERIC_HOST.match(host):
        raise SocialLinkError(_IP_LITERAL)
    try:
        # Same mapping a browser applies (full-width letters fold to ASCII);
        # the punycode form also shows look-alike letters for what they are.
        host = host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise SocialLinkError(_BAD_HOST) from exc
    labels = host.split(".")
    if (
        len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or not _TLD.match(labels[-1])
    ):
        raise SocialLinkError(_BAD_HOST)
    return host


@dataclass(frozen=True)
class _Url:
    scheme: str
    host: str
    port: int | None
    path: str
    query: str


def _split(url: str) -> _Url:
    """Validate ``url`` (see the module docstring) and split it."""
    if not isinstance(url, str):
        raise SocialLinkError("The link must be text.")
    url = url.strip()
    if not url:
        raise SocialLinkError("Please paste a link.")
    if len(url) > MAX_URL_LENGTH:
        raise SocialLinkError(
            f"The link is too long (over {MAX_URL_LENGTH} characters)."
        )
    if _has_bad_character(url):
        raise SocialLinkError("The link contains spaces or hidden characters.")
    if "\\" in url:
        # Browsers read "\" as "/" in web URLs, so it can move the host.
        raise SocialLinkError("The link contains a backslash, which is not allowed.")
    if url.startswith("//"):
        url = "https:" + url
    else:
        scheme = _SCHEME.match(url)
        if scheme is None or url[scheme.end() : scheme.end() + 1].isdigit():
            # Pasted without a scheme: "youtu.be/abc", "example.com:8080/x".
            url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # unbalanced "[" or "]" in the host
        raise SocialLinkError(_BAD_HOST) from exc
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise SocialLinkError(
            "Only web links (http or https) can be submitted, "
            f"not “{parts.scheme}:” links."
        )
    if not url[len(parts.scheme) + 1 :].startswith("//") or not parts.netloc:
        raise SocialLinkError("The link has no website name in it.")
    netloc = parts.netloc
    if "@" in netloc:
        raise SocialLinkError(
            "Links with a user name or password in them can't be accepted."
        )
    if netloc.startswith("["):
        raise SocialLinkError(_IP_LITERAL)
    host, colon, port_text = netloc.partition(":")
    port: int | None = None
    if colon:
        if not (port_text.isascii() and port_text.isdigit() and len(port_text) <= 5):
            raise SocialLinkError(_BAD_PORT)
        port = int(port_text)
        if not 0 < port < 65536:
            raise SocialLinkError(_BAD_PORT)
        if (scheme, port) in {("http", 80), ("https", 443)}:
            port = None
    return _Url(scheme, _normalise_host(host), port, parts.path, parts.query)
