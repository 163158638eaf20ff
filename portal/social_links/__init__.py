"""Parse the social-media links patients submit into what a case may show.

:func:`parse_social_link` either returns a :class:`ParsedLink` or raises
:class:`SocialLinkError` with a message fit to show the patient. A patient's
link can name them: the handle in ``tiktok.com/@jo.smith/video/…``, the
account in ``reddit.com/user/jo_smith/comments/…``, the sharer's ids that
apps append (``u_code``, ``share_item_id``, ``sender_device``, ``igsh``,
``si``…), or a share code tied to the account that shared it. The original
stays on the submission, seen only by the patient and their clinician; what
may reach a case is built here, from the content id alone.

Guarantees:

- ``canonical_url`` is the one form of the link a case may show. For the six
  known platforms it is rebuilt from the platform and the content id only,
  always ``https`` on the bare host, with no user name, community, title
  slug, fragment, or query other than the id itself:
  ``tiktok.com/embed/v2/<id>``, ``youtube.com/watch?v=<id>``,
  ``instagram.com/reel/<code>/``, ``reddit.com/comments/<id>/``,
  ``x.com/i/status/<id>``, ``facebook.com/watch/?v=<id>``. So the same
  content pasted from the app, the website or a share sheet gives the same
  URL, and duplicates can be spotted. Other sites keep their scheme, host,
  port and path but lose the query and fragment (a query there may carry
  anything; rewriting the host could produce an address that does not
  exist).
- When no such form can be made offline, ``canonical_url`` is ``None`` and
  ``private_reason`` says why: share links (``vm.tiktok.com/…``,
  ``reddit.com/r/…/s/…``, ``fb.watch/…``, ``t.co/…``) reveal their content
  only by following a redirect, which this module never does (it makes no
  network calls), and their code can identify who shared them; profile,
  story and post addresses that cannot be separated from their owner; pages
  that are not one post. Such a link stays with the clinician; a case shows
  only its platform.
- ``content_id`` is the platform's id for the post or video when the URL
  carries it, else ``None``.
- ``embed_url`` is a player URL on the platform's own embed host (YouTube's
  ``youtube-nocookie.com``, which sets no tracking cookies until play),
  built from the content id too, or ``None`` when there is none.

Rejected: other schemes (``javascript:``, ``data:``, ``file:``, ``ftp:``…),
credentials in the URL, hosts that are not public DNS names, IP literals,
over-long input, whitespace or control characters inside the URL and
malformed ports. IP literals are refused because a patient's social link
always has a domain name; a bare address hides where it leads from the
clinician judging the finding's credibility, and may point at private
networks (a hazard the moment anything fetches a preview).

Nothing here imports Django. The work is split by concern:
``validation`` (what is accepted, and the split URL), ``platforms`` (each
platform's parser and the canonical forms) and ``hashtags``; this module is
the public entry point.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.social_links.hashtags import (
    MAX_HASHTAG_LENGTH,
    MAX_HASHTAGS,
    extract_hashtags,
)
from portal.social_links.platforms import (
    _PLATFORM_HOSTS,
    NAMES_OWNER,
    NOT_A_POST,
    PLATFORMS,
    SHARE_LINK,
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    _other,
)
from portal.social_links.validation import MAX_URL_LENGTH, SocialLinkError, _split

__all__ = [
    "MAX_HASHTAGS",
    "MAX_HASHTAG_LENGTH",
    "MAX_URL_LENGTH",
    "NAMES_OWNER",
    "NOT_A_POST",
    "PLATFORMS",
    "SHARE_LINK",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "ParsedLink",
    "SocialLinkError",
    "extract_hashtags",
    "parse_social_link",
]


@dataclass(frozen=True)
class ParsedLink:
    platform: str
    content_id: str | None
    # What a case may show; None when only the clinician may see the link.
    canonical_url: str | None
    hashtags: list[str] = field(default_factory=list, hash=False)
    embed_url: str | None = None
    private_reason: str = ""

    @property
    def case_safe(self) -> bool:
        return self.canonical_url is not None


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
        embed_url=found.embed_url if found.canonical_url else None,
        private_reason=found.private_reason,
    )
