"""Parse the social-media links patients submit into a canonical form.

:func:`parse_social_link` either returns a :class:`ParsedLink` or raises
:class:`SocialLinkError` with a message fit to show the patient. Guarantees:

- ``canonical_url`` is an absolute ``http(s)`` URL without credentials,
  fragment or tracking parameters. The same piece of content pasted from the
  app, the website or a share sheet gives the same canonical URL, so duplicate
  submissions can be spotted; for the six known platforms it is always
  ``https`` on the bare host (``youtube.com``, ``tiktok.com``, ``x.com``…),
  which every one of them serves or redirects. Other sites keep their scheme
  and host: rewriting them could produce an address that does not exist.
- ``content_id`` is the platform's id for the post or video when the URL
  carries it, else ``None`` (short links such as ``vm.tiktok.com/…`` or
  ``fb.watch/…`` only reveal it after following a redirect, which this module
  never does: it makes no network calls).
- ``embed_url`` is a player URL on the platform's own embed host (YouTube's
  ``youtube-nocookie.com``, which sets no tracking cookies until play) or
  ``None`` when the platform has no embed for that kind of link.

Rejected: other schemes (``javascript:``, ``data:``, ``file:``, ``ftp:``…),
credentials in the URL, hosts that are not public DNS names, IP literals,
over-long input, whitespace or control characters inside the URL and
malformed ports. IP literals are refused because a patient's social link
always has a domain name; a bare address hides where it leads from the
clinician judging the finding's credibility, and may point at private
networks (a hazard the moment anything fetches a preview).

Nothing here imports Django.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "MAX_URL_LENGTH",
    "PLATFORMS",
    "TRACKING_PARAMS",
    "ParsedLink",
    "SocialLinkError",
    "extract_hashtags",
    "parse_social_link",
]

MAX_URL_LENGTH = 2048
MAX_HASHTAGS = 30
MAX_HASHTAG_LENGTH = 100

PLATFORMS = ("tiktok", "youtube", "instagram", "reddit", "x", "facebook", "other")

TRACKING_PARAMS = frozenset(
    {
        "_r",
        "_t",
        "context",
        "fbclid",
        "feature",
        "gclid",
        "igsh",
        "igshid",
        "is_copy_url",
        "is_from_webapp",
        "mc_cid",
        "mc_eid",
        "mibextid",
        "msclkid",
        "pp",
        "ref",
        "ref_src",
        "ref_url",
        "rdt",
        "sender_device",
        "share_app_id",
        "share_id",
        "share_item_id",
        "share_link_id",
        "si",
        "yclid",
    }
)
# On x.com these two are share-sheet noise; on other sites "s" or "t" can be
# a real search term or timestamp, so they are only dropped there.
_X_TRACKING_PARAMS = frozenset({"s", "t"})


class SocialLinkError(ValueError):
    """The text is not a link that can be accepted; the message says why."""


@dataclass(frozen=True)
class ParsedLink:
    platform: str
    content_id: str | None
    canonical_url: str
    hashtags: list[str] = field(default_factory=list, hash=False)
    embed_url: str | None = None


# --- validation ---------------------------------------------------------------

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


# --- helpers ------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    content_id: str | None
    canonical_url: str
    embed_url: str | None = None


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def _params(query: str) -> dict[str, str]:
    # First value wins, as on the platforms themselves.
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def _fullmatch(pattern: str, value: str | None) -> str | None:
    if value is not None and re.fullmatch(pattern, value):
        return value
    return None


def _clean_query(query: str, *, also_drop: frozenset[str] = frozenset()) -> str:
    kept = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not key.lower().startswith("utm_")
        and key.lower() not in TRACKING_PARAMS
        and key.lower() not in also_drop
    ]
    return urlencode(kept, quote_via=quote)


def _path(segments: list[str], *, slash: bool = False) -> str:
    # "%" stays as is: segments come from the URL already percent-encoded.
    quoted = [quote(segment, safe="@-._~!$&'()*+,;=:%") for segment in segments]
    path = "/" + "/".join(quoted)
    return path + "/" if slash and segments else path


def _https(host: str, path: str, query: str = "") -> str:
    return urlunsplit(("https", host, path or "/", query, ""))


def _generic(host: str, url: _Url, **clean: frozenset[str]) -> _Found:
    segments = _segments(url.path)
    slash = url.path.endswith("/")
    return _Found(
        None,
        _https(host, _path(segments, slash=slash), _clean_query(url.query, **clean)),
    )


_NUMBER = r"[0-9]{1,25}"


# --- platforms ----------------------------------------------------------------


def _tiktok(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host in {"vm.tiktok.com", "vt.tiktok.com"} and segments:
        # Share links: the video id is only known after the redirect.
        return _Found(None, _https(url.host, _path(segments[:1], slash=True)))
    if segments[:1] == ["t"] and len(segments) >= 2:
        return _Found(None, _https("tiktok.com", _path(segments[:2], slash=True)))
    if (
        len(segments) >= 3
        and re.fullmatch(r"@[\w.-]{1,64}", segments[0])
        and segments[1] in {"video", "photo"}
    ):
        content_id = _fullmatch(_NUMBER, segments[2])
        if content_id:
            kind = segments[1]
            return _Found(
                content_id,
                _https("tiktok.com", _path([segments[0], kind, content_id])),
                _tiktok_embed(content_id) if kind == "video" else None,
            )
    if segments[:1] == ["embed"] or segments[:2] == ["player", "v1"]:
        content_id = _fullmatch(_NUMBER, segments[-1] if len(segments) >= 2 else None)
        if content_id:
            return _Found(
                content_id,
                _https("tiktok.com", f"/embed/v2/{content_id}"),
                _tiktok_embed(content_id),
            )
    return _generic("tiktok.com", url)


def _tiktok_embed(content_id: str) -> str:
    return f"https://www.tiktok.com/embed/v2/{content_id}"


_YOUTUBE_ID = r"[A-Za-z0-9_-]{11}"
_YOUTUBE_PATH_KINDS = {"shorts", "embed", "live", "v", "e"}
_DURATION = re.compile(r"(?:(\d{1,3})h)?(?:(\d{1,4})m)?(?:(\d{1,6})s?)?")


def _youtube_start(params: dict[str, str]) -> int | None:
    """Seconds from ``t`` (``90``, ``90s``, ``1m30s``) or ``start``; else None."""
    raw = params.get("t") or params.get("start") or ""
    match = _DURATION.fullmatch(raw)
    if not raw or match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total or None


def _youtube(url: _Url) -> _Found:
    segments = _segments(url.path)
    params = _params(url.query)
    raw_id: str | None = None
    if url.host == "youtu.be":
        raw_id = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        raw_id = params.get("v")
    elif len(segments) >= 2 and segments[0] in _YOUTUBE_PATH_KINDS:
        raw_id = segments[1]
    content_id = _fullmatch(_YOUTUBE_ID, raw_id)
    if content_id is None:
        return _generic("youtube.com", url)
    start = _youtube_start(params)
    query = urlencode({"v": content_id} | ({"t": start} if start else {}))
    embed = f"https://www.youtube-nocookie.com/embed/{content_id}"
    if start:
        embed += f"?start={start}"
    return _Found(content_id, _https("youtube.com", "/watch", query), embed)


_INSTAGRAM_KINDS = {"p": "p", "reel": "reel", "reels": "reel", "tv": "tv"}
_INSTAGRAM_CODE = r"[A-Za-z0-9_-]{5,64}"


def _instagram(url: _Url) -> _Found:
    segments = _segments(url.path)
    # "/p/<code>/" or, in newer share links, "/<user>/p/<code>/".
    for offset in (0, 1):
        if len(segments) >= offset + 2 and segments[offset] in _INSTAGRAM_KINDS:
            code = _fullmatch(_INSTAGRAM_CODE, segments[offset + 1])
            if code:
                kind = _INSTAGRAM_KINDS[segments[offset]]
                return _Found(
                    code,
                    _https("instagram.com", f"/{kind}/{code}/"),
                    f"https://www.instagram.com/{kind}/{code}/embed/",
                )
    if len(segments) >= 3 and segments[0] == "stories":
        story_id = _fullmatch(_NUMBER, segments[2])
        if story_id:
            return _Found(
                story_id,
                _https("instagram.com", _path(segments[:3], slash=True)),
            )
    return _generic("instagram.com", url)


_REDDIT_ID = r"[a-z0-9]{1,12}"


def _reddit(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host == "redd.it":
        post_id = _fullmatch(_REDDIT_ID, segments[0].lower() if segments else None)
        if post_id:
            return _Found(post_id, _https("reddit.com", f"/comments/{post_id}/"))
        return _generic("redd.it", url)
    if url.host == "v.redd.it":
        return _generic("v.redd.it", url)
    # "/r/<sub>/..." or "/user/<name>/..." (also "/u/<name>"), or bare "/comments".
    owner: list[str] = []
    rest = segments
    if len(segments) >= 2 and segments[0].lower() in {"r", "u", "user"}:
        kind = "r" if segments[0].lower() == "r" else "user"
        owner = [kind, segments[1].lower() if kind == "r" else segments[1]]
        rest = segments[2:]
    if len(rest) >= 2 and rest[0] == "comments":
        post_id = _fullmatch(_REDDIT_ID, rest[1].lower())
        if post_id:
            tail = rest[2:4] if len(rest) >= 4 else []  # slug + comment id
            canonical = _https(
                "reddit.com", _path([*owner, "comments", post_id, *tail], slash=True)
            )
            embed = None
            if owner[:1] == ["r"]:
                embed = f"https://embed.reddit.com{_path([*owner, 'comments', post_id], slash=True)}"
            return _Found(post_id, canonical, embed)
    if owner[:1] == ["r"] and len(rest) >= 2 and rest[0] == "s":
        # Share link: resolves to a post only by following the redirect.
        return _Found(None, _https("reddit.com", _path([*owner, "s", rest[1]])))
    return _generic("reddit.com", url)


def _x(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host == "t.co":
        return _generic("t.co", url)
    status_id: str | None = None
    user = "i"
    if len(segments) >= 3 and segments[1] in {"status", "statuses"}:
        user, status_id = segments[0], segments[2]
    elif segments[:3] == ["i", "web", "status"] and len(segments) >= 4:
        status_id = segments[3]
    content_id = _fullmatch(_NUMBER, status_id)
    if content_id is None or not re.fullmatch(r"\w{1,50}", user):
        return _generic("x.com", url, also_drop=_X_TRACKING_PARAMS)
    return _Found(
        content_id,
        _https("x.com", _path([user, "status", content_id])),
        f"https://platform.twitter.com/embed/Tweet.html?id={content_id}",
    )


def _facebook_embed(canonical: str) -> str:
    return "https://www.facebook.com/plugins/video.php?href=" + quote(
        canonical, safe=""
    )


def _facebook(url: _Url) -> _Found:
    segments = _segments(url.path)
    params = _params(url.query)
    if url.host == "fb.watch":
        if segments:
            return _Found(None, _https("fb.watch", _path(segments[:1], slash=True)))
        return _generic("fb.watch", url)
    if segments[:1] in (["watch"], ["video.php"]):
        content_id = _fullmatch(_NUMBER, params.get("v"))
        if content_id:
            canonical = _https("facebook.com", "/watch/", f"v={content_id}")
            return _Found(content_id, canonical, _facebook_embed(canonical))
    if segments[:1] == ["reel"] and len(segments) >= 2:
        content_id = _fullmatch(_NUMBER, segments[1])
        if content_id:
            canonical = _https("facebook.com", f"/reel/{content_id}")
            return _Found(content_id, canonical, _facebook_embed(canonical))
    if len(segments) >= 3 and segments[1] == "videos":
        # "/<page>/videos/<id>/" or "/<page>/videos/<title-slug>/<id>/".
        content_id = next(
            (s for s in reversed(segments[2:4]) if re.fullmatch(_NUMBER, s)), None
        )
        if content_id:
            canonical = _https(
                "facebook.com", _path([segments[0], "videos", content_id], slash=True)
            )
            return _Found(content_id, canonical, _facebook_embed(canonical))
    if segments[:1] == ["share"] and len(segments) >= 2:
        # "/share/v/<code>/", "/share/r/<code>/": resolved only by redirect.
        return _Found(None, _https("facebook.com", _path(segments[:3], slash=True)))
    return _generic("facebook.com", url)


_PLATFORM_HOSTS: dict[str, tuple[str, Callable[[_Url], _Found]]] = {}


def _register(platform: str, parser: Callable[[_Url], _Found], *hosts: str) -> None:
    for host in hosts:
        _PLATFORM_HOSTS[host] = (platform, parser)


_register(
    "tiktok",
    _tiktok,
    "tiktok.com",
    "www.tiktok.com",
    "m.tiktok.com",
    "vm.tiktok.com",
    "vt.tiktok.com",
)
_register(
    "youtube",
    _youtube,
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
    "youtu.be",
)
_register(
    "instagram",
    _instagram,
    "instagram.com",
    "www.instagram.com",
    "m.instagram.com",
    "instagr.am",
)
_register(
    "reddit",
    _reddit,
    "reddit.com",
    "www.reddit.com",
    "old.reddit.com",
    "new.reddit.com",
    "m.reddit.com",
    "np.reddit.com",
    "amp.reddit.com",
    "sh.reddit.com",
    "redd.it",
    "v.redd.it",
)
_register(
    "x",
    _x,
    "x.com",
    "www.x.com",
    "mobile.x.com",
    "twitter.com",
    "www.twitter.com",
    "mobile.twitter.com",
    "m.twitter.com",
    "t.co",
)
_register(
    "facebook",
    _facebook,
    "facebook.com",
    "www.facebook.com",
    "m.facebook.com",
    "web.facebook.com",
    "mbasic.facebook.com",
    "touch.facebook.com",
    "fb.com",
    "www.fb.com",
    "fb.watch",
)


def _other(url: _Url) -> _Found:
    netloc = url.host if url.port is None else f"{url.host}:{url.port}"
    segments = _segments(url.path)
    path = _path(segments, slash=url.path.endswith("/"))
    return _Found(
        None, urlunsplit((url.scheme, netloc, path, _clean_query(url.query), ""))
    )


# --- hashtags -----------------------------------------------------------------


def _is_tag_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in {"L", "M", "N"} or ch == "\u200d"


def extract_hashtags(description: str) -> list[str]:
    """Hashtags in ``description`` without the ``#``, first spelling kept.

    A tag is ``#`` followed by letters, marks, digits or ``_`` (any script) and
    must contain a letter; ``#1`` and HTML entities such as ``&#39;`` are not
    tags. Duplicates are dropped case-insensitively, order is kept, and at
    most ``MAX_HASHTAGS`` tags of ``MAX_HASHTAG_LENGTH`` characters are kept.
    """
    tags: list[str] = []
    seen: set[str] = set()
    text = unicodedata.normalize("NFC", description or "")
    index = text.find("#")
    while index != -1 and len(tags) < MAX_HASHTAGS:
        end = index + 1
        while end < len(text) and _is_tag_char(text[end]):
            end += 1
        tag = text[index + 1 : end].strip("\u200d")
        before = text[index - 1] if index else " "
        starts_word = not (_is_tag_char(before) or before in "&#")
        if (
            starts_word
            and tag
            and len(tag) <= MAX_HASHTAG_LENGTH
            and any(unicodedata.category(ch)[0] == "L" for ch in tag)
        ):
            key = tag.casefold()
            if key not in seen:
                seen.add(key)
                tags.append(tag)
        index = text.find("#", max(end, index + 1))
    return tags


# --- entry point --------------------------------------------------------------


def parse_social_link(url: str, description: str = "") -> ParsedLink:
    """Validate ``url`` and describe it; see the module docstring.

    Raises :class:`SocialLinkError` (a ``ValueError``) with a message that can
    be shown to the person who pasted the link.
    """
    parts = _split(url)
    platform, parser = _PLATFORM_HOSTS.get(parts.host, ("other", _other))
    if parts.port is not None:
        # The platforms serve content only on the default ports.
        platform, parser = "other", _other
    found = parser(parts)
    return ParsedLink(
        platform=platform,
        content_id=found.content_id,
        canonical_url=found.canonical_url,
        hashtags=extract_hashtags(description),
        embed_url=found.embed_url,
    )
