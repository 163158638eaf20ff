"""Per-platform parsing: the content id, canonical URL and embed URL of a
link on each known platform, and the origin-and-path form for other sites.

Each parser takes a validated :class:`~portal.social_links.validation._Url`
and never makes a network call. Nothing here imports Django.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlunsplit

from portal.social_links.validation import _Url

PLATFORMS = ("tiktok", "youtube", "instagram", "reddit", "x", "facebook", "other")

# Parameters that identify the sharer or track the click. None of them ever
# appears in a canonical URL (every query is rebuilt or dropped); they are
# listed so tests and reviewers can check exactly that.
TRACKING_PARAMS = frozenset(
    {
        "_d",
        "_r",
        "_t",
        "checksum",
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
        "preview_pb",
        "rdt",
        "ref",
        "ref_src",
        "ref_url",
        "sec_uid",
        "sec_user_id",
        "sender_device",
        "sender_web_id",
        "si",
        "timestamp",
        "tt_from",
        "u_code",
        "user_id",
        "yclid",
    }
)
TRACKING_PREFIXES = ("utm_", "share_")

SHARE_LINK = (
    "This is a {platform} share link: it shows which post it leads to only "
    "when opened, and it can identify who shared it. It stays with the "
    "clinician and is never shown on a case."
)
NAMES_OWNER = (
    "{platform} can't be linked to without naming the account, so this link "
    "stays with the clinician and is never shown on a case."
)
NOT_A_POST = (
    "This link doesn't lead to one post or video (it may be a profile, a "
    "search or a feed), so it stays with the clinician and is never shown on "
    "a case."
)


@dataclass(frozen=True)
class _Found:
    content_id: str | None
    canonical_url: str | None
    embed_url: str | None = None
    private_reason: str = ""


def _private(reason: str, content_id: str | None = None) -> _Found:
    return _Found(content_id, None, None, reason)


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


def _path(segments: list[str], *, slash: bool = False) -> str:
    # "%" stays as is: segments come from the URL already percent-encoded.
    quoted = [quote(segment, safe="@-._~!$&'()*+,;=:%") for segment in segments]
    path = "/" + "/".join(quoted)
    return path + "/" if slash and segments else path


def _https(host: str, path: str, query: str = "") -> str:
    return urlunsplit(("https", host, path or "/", query, ""))


_NUMBER = r"[0-9]{1,25}"


def _tiktok(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host in {"vm.tiktok.com", "vt.tiktok.com"} or segments[:1] == ["t"]:
        # Share links: the video id is only known after the redirect.
        return _private(SHARE_LINK.format(platform="TikTok"))
    raw_id: str | None = None
    if (
        len(segments) >= 3
        and re.fullmatch(r"@[\w.-]{0,64}", segments[0])
        and segments[1] in {"video", "photo"}
    ):
        raw_id = segments[2]  # "/@<user>/video/<id>": the user is dropped
    elif len(segments) >= 2 and segments[0] == "v":
        # "/v/<id>.html", the form the app's older share sheet produces.
        match = re.fullmatch(r"([0-9]{1,25})(?:\.html?)?", segments[1])
        raw_id = match.group(1) if match else None
    elif segments[:1] == ["embed"] or segments[:2] == ["player", "v1"]:
        raw_id = segments[-1] if len(segments) >= 2 else None
    elif segments[:2] == ["share", "video"] and len(segments) >= 3:
        raw_id = segments[2]
    content_id = _fullmatch(_NUMBER, raw_id)
    if content_id is None:
        return _private(NOT_A_POST)
    embed = f"https://www.tiktok.com/embed/v2/{content_id}"
    return _Found(
        content_id,
        _https("tiktok.com", f"/embed/v2/{content_id}"),
        embed if segments[1:2] != ["photo"] else None,
    )


_YOUTUBE_ID = r"[A-Za-z0-9_-]{11}"
_YOUTUBE_PATH_KINDS = {"shorts", "embed", "live", "v", "e"}


def _youtube(url: _Url) -> _Found:
    segments = _segments(url.path)
    raw_id: str | None = None
    if url.host == "youtu.be":
        raw_id = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        raw_id = _params(url.query).get("v")
    elif len(segments) >= 2 and segments[0] in _YOUTUBE_PATH_KINDS:
        raw_id = segments[1]
    content_id = _fullmatch(_YOUTUBE_ID, raw_id)
    if content_id is None:
        return _private(NOT_A_POST)
    return _Found(
        content_id,
        _https("youtube.com", "/watch", f"v={content_id}"),
        f"https://www.youtube-nocookie.com/embed/{content_id}",
    )


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
    if segments[:1] == ["share"]:
        return _private(SHARE_LINK.format(platform="Instagram"))
    if segments[:1] == ["stories"]:
        # "/stories/<user>/<id>/": a story has no address without its owner.
        return _private(NAMES_OWNER.format(platform="Instagram stories"))
    return _private(NOT_A_POST)


_REDDIT_ID = r"[a-z0-9]{1,12}"


def _reddit_post(post_id: str) -> _Found:
    # The subreddit, author and title slug are all dropped: the bare
    # "/comments/<id>/" redirects to the post. Reddit's embed needs the
    # subreddit in its path, so a case gets no embed.
    return _Found(post_id, _https("reddit.com", f"/comments/{post_id}/"))


def _reddit(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host == "reddit.app.link":
        return _private(SHARE_LINK.format(platform="Reddit"))
    if url.host == "redd.it":
        post_id = _fullmatch(_REDDIT_ID, segments[0].lower() if segments else None)
        return _reddit_post(post_id) if post_id else _private(NOT_A_POST)
    if url.host == "v.redd.it":
        # A video's own id: it names neither the post's author nor a community.
        media_id = _fullmatch(r"[A-Za-z0-9]{1,20}", segments[0] if segments else None)
        if media_id:
            return _Found(media_id, _https("v.redd.it", f"/{media_id}"))
        return _private(NOT_A_POST)
    # "/r/<sub>/...", "/user/<name>/..." or "/u/<name>/...", or a bare "/comments".
    rest = segments
    if len(segments) >= 2 and segments[0].lower() in {"r", "u", "user"}:
        rest = segments[2:]
    if len(rest) >= 2 and rest[0] in {"comments", "gallery"}:
        post_id = _fullmatch(_REDDIT_ID, rest[1].lower())
        if post_id:
            return _reddit_post(post_id)
    if len(rest) >= 2 and rest[0] == "s":
        # "/r/<sub>/s/<code>": resolves to a post only by following the
        # redirect, and the code is tied to the account that shared it.
        return _private(SHARE_LINK.format(platform="Reddit"))
    return _private(NOT_A_POST)


def _x(url: _Url) -> _Found:
    segments = _segments(url.path)
    if url.host == "t.co":
        return _private(SHARE_LINK.format(platform="X"))
    status_id: str | None = None
    if len(segments) >= 3 and segments[1] in {"status", "statuses"}:
        status_id = segments[2]  # "/<user>/status/<id>": the user is dropped
    elif segments[:3] == ["i", "web", "status"] and len(segments) >= 4:
        status_id = segments[3]
    content_id = _fullmatch(_NUMBER, status_id)
    if content_id is None:
        return _private(NOT_A_POST)
    return _Found(
        content_id,
        _https("x.com", f"/i/status/{content_id}"),
        f"https://platform.twitter.com/embed/Tweet.html?id={content_id}",
    )


def _facebook_embed(canonical: str) -> str:
    return "https://www.facebook.com/plugins/video.php?href=" + quote(
        canonical, safe=""
    )


def _facebook_video(content_id: str) -> _Found:
    canonical = _https("facebook.com", "/watch/", f"v={content_id}")
    return _Found(content_id, canonical, _facebook_embed(canonical))


def _facebook(url: _Url) -> _Found:
    segments = _segments(url.path)
    params = _params(url.query)
    if url.host == "fb.watch" or segments[:1] == ["share"]:
        # "fb.watch/<code>/", "/share/v/<code>/": resolved only by redirect.
        return _private(SHARE_LINK.format(platform="Facebook"))
    if segments[:1] in (["watch"], ["video.php"]):
        content_id = _fullmatch(_NUMBER, params.get("v"))
        if content_id:
            return _facebook_video(content_id)
    if segments[:1] == ["reel"] and len(segments) >= 2:
        content_id = _fullmatch(_NUMBER, segments[1])
        if content_id:
            canonical = _https("facebook.com", f"/reel/{content_id}")
            return _Found(content_id, canonical, _facebook_embed(canonical))
    if len(segments) >= 3 and segments[1] == "videos":
        # "/<page>/videos/<id>/" or "/<page>/videos/<title-slug>/<id>/": a
        # video id is global, so the watch page needs neither page nor slug.
        content_id = next(
            (s for s in reversed(segments[2:4]) if re.fullmatch(_NUMBER, s)), None
        )
        if content_id:
            return _facebook_video(content_id)
    if segments[:1] in (["photo.php"], ["photo"]):
        content_id = _fullmatch(_NUMBER, params.get("fbid"))
        if content_id:
            # The "set" parameter (the owner's album) is dropped.
            return _Found(
                content_id, _https("facebook.com", "/photo/", f"fbid={content_id}")
            )
    if segments[:1] in (["permalink.php"], ["story.php"]) or segments[1:2] == ["posts"]:
        # A post's address always carries its author (a name or an "id=").
        return _private(NAMES_OWNER.format(platform="Facebook posts"))
    return _private(NOT_A_POST)


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
    "i.reddit.com",
    "redd.it",
    "v.redd.it",
    "reddit.app.link",
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
    # Origin and path only: a query on an arbitrary site may carry anything
    # (an e-mail address, a record number, a session token).
    netloc = url.host if url.port is None else f"{url.host}:{url.port}"
    path = _path(_segments(url.path), slash=url.path.endswith("/"))
    return _Found(None, urlunsplit((url.scheme, netloc, path, "", "")))
