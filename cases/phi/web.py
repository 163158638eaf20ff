"""Social media handles and e-mail addresses written to dodge a filter.

- ``@name`` in a sentence about social media ("posts as @x", "her Instagram
  is @x", "follow @x"; a bare "@colin" is how the discussion mentions a
  colleague), ``u/name`` (Reddit), and a name after a platform word:
  "Instagram: jane_doe92", "on TikTok as grannygetsfit". Profile URLs are
  web addresses already (``url``).
- "jane dot doe at gmail dot com", "jane[at]example[dot]org",
  "j.doe (at) example.com": an e-mail address with "at" and "dot" spelt out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from cases.phi.contacts import _CC_TLDS, _TLD_LIST
from cases.phi.findings import REASONS, _Hit
from cases.phi.lexicon import WORDS
from cases.phi.text import _Doc, _words

_HANDLE = re.compile(r"(?<![\w@./+-])@(?P<h>[A-Za-z_][A-Za-z0-9_.]{1,29})(?<!\.)")
_REDDIT_USER = re.compile(r"(?<![\w/])/?u/(?P<h>[A-Za-z0-9_-]{3,20})\b")
_PLATFORM = re.compile(
    r"(?i:\b(?:instagram|insta|ig|twitter|tiktok|tik[ \t]+tok|snapchat|snap|facebook|fb"
    r"|youtube|yt|reddit|threads|mastodon|bluesky|linkedin|telegram|discord|twitch"
    r"|onlyfans|pinterest|tumblr)(?:[ \t]+(?:handle|account|username|user[ \t]*name"
    r"|name|page|profile|channel|id))?(?:[ \t]+(?:is|was))?(?:[ \t]*[:=-][ \t]*|[ \t]+as[ \t]+"
    r"|[ \t]+))"
    r"@?(?P<h>[A-Za-z0-9_.]{3,30})(?<!\.)"
)
_PLATFORM_KEYWORDS = _words(
    "instagram insta ig twitter tiktok tik snapchat snap facebook fb youtube yt reddit"
    " threads mastodon bluesky linkedin telegram discord twitch onlyfans pinterest tumblr"
)


def _handle_like(handle: str) -> bool:
    """A made-up account name rather than an ordinary word."""
    folded = handle.casefold()
    if any(ch.isdigit() or ch in "_." for ch in handle):
        return True
    return folded not in WORDS


# In this app "@colin" is how a clinician mentions a colleague in the
# discussion, so a bare @name counts as a social media handle only with a word
# about social media or accounts in the same sentence ("posts as @x", "her
# Instagram is @x", "follow @x", "DM from @x", "tagged @x").
_SOCIAL = re.compile(
    r"instagram|insta\b|\big\b|twitter|tweet|\bx\.com|tiktok|tik tok|snapchat"
    r"|\bsnap\b|facebook|\bfb\b|youtube|\byt\b|reddit|threads|mastodon|bluesky"
    r"|linkedin|telegram|discord|twitch|onlyfans|pinterest|tumblr|etsy|strava"
    r"|social|online|forum|blog|vlog|\bposts?\b|posted|posting|handle|account"
    r"|profile|username|user name|\bfollow|followers|tagged|\bdms?\b|\bvideos?\b"
    r"|channel|\bpage\b|\breels?\b|stories|livestream|stream|\bas @|\bis @"
)
_SENTENCE_END = re.compile(r"[.!?\n](?:\s|$)")
_TLD_END = re.compile(rf"\.(?:{'|'.join(sorted(_TLD_LIST))})$", re.IGNORECASE)


def _social_context(lower: str, start: int, end: int) -> bool:
    """Whether the sentence around ``lower[start:end]`` is about social media."""
    left = lower.rfind("\n", max(0, start - 120), start)
    window_start = max(left + 1, start - 120)
    before = lower[window_start:start]
    stops = list(_SENTENCE_END.finditer(before))
    if stops:
        before = before[stops[-1].end() :]
    after = lower[end : end + 80]
    stop = _SENTENCE_END.search(after)
    if stop:
        after = after[: stop.start()]
    return _SOCIAL.search(before + "@" + after) is not None


def handle_hits(doc: _Doc) -> Iterator[_Hit]:
    text = doc.text
    reason = REASONS["handle"] + "."
    if "@" in text:
        for match in _HANDLE.finditer(text):
            end = match.end()
            # The local part of an e-mail address, not a handle.
            if text[end : end + 1] == "@" or (
                text[end : end + 1] == "." and text[end + 1 : end + 2].isalnum()
            ):
                continue
            handle = match["h"]
            if "." in handle and _TLD_END.search(handle):
                continue  # "@example.org": part of an address, not an account
            if _handle_like(handle) and _social_context(doc.lower, match.start(), end):
                yield _Hit(match.start(), end, "handle", reason)
    if "u/" in text:
        for match in _REDDIT_USER.finditer(text):
            yield _Hit(*match.span(), "handle", reason)
    for start in doc.word_starts(_PLATFORM_KEYWORDS):
        match = _PLATFORM.match(text, start)
        if match is None:
            continue
        handle = match["h"]
        explicit = text[
            match.start("h") - 1 : match.start("h")
        ] in "@:=-" or " as " in (match.group())
        if _handle_like(handle) and (
            explicit or not handle.isalpha() or handle.islower()
        ):
            yield _Hit(
                match.start("h") - (text[match.start("h") - 1] == "@"),
                match.end("h"),
                "handle",
                reason,
            )


# Obfuscated e-mail addresses ---------------------------------------------------
_AT = (
    r"(?:[ \t]*(?:\[at\]|\(at\)|\{at\}|<at>|\[@\]|\(@\))[ \t]*|[ \t]+(?:at|@)[ \t]+"
    r"|@(?=[a-z0-9-]+[ \t]*(?:\[dot\]|\(dot\)|\{dot\}|<dot>|\[\.\]|\(\.\)|[ \t]dot[ \t])))"
)
_DOT = r"(?:[ \t]*(?:\[dot\]|\(dot\)|\{dot\}|<dot>|\[\.\]|\(\.\))[ \t]*|[ \t]+dot[ \t]+|\.)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_TLDS = "|".join(sorted(_TLD_LIST | _CC_TLDS))
# Greedy: "hotmail DOT co DOT jp" is one domain, not "hotmail DOT co".
_OBFUSCATED_DOMAIN = re.compile(
    rf"{_AT}(?P<d>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLDS}))(?![\w-])"
)
_LOCAL_BEFORE = re.compile(
    rf"(?<![\w.+-])(?P<l>[a-z0-9._%+-]+(?:{_DOT}[a-z0-9_%+-]+)*)$"
)
_AT_SEEDS = re.compile(r"\[at\]|\(at\)|\{at\}|<at>|\[@\]|\(@\)| at | @ |@")


def obfuscated_email_hits(doc: _Doc) -> Iterator[_Hit]:
    lower = doc.lower
    spelt = any(mark in lower for mark in (" dot ", "[", "(", "{", "<", "@"))
    # "jane.doe at example.com" still needs a dotted local part.
    if not spelt and (" at " not in lower or "." not in lower):
        return
    reason = REASONS["email"] + " (written out to avoid a filter)."
    pos = 0
    while (seed := _AT_SEEDS.search(lower, pos)) is not None:
        pos = seed.end()
        at_start = seed.start()
        while at_start and lower[at_start - 1] in " \t":
            at_start -= 1
        domain = _OBFUSCATED_DOMAIN.match(lower, at_start)
        if domain is None:
            continue
        local = _LOCAL_BEFORE.search(lower, max(0, at_start - 64), at_start)
        if local is None or not any(ch.isalnum() for ch in local["l"]):
            continue
        whole = lower[local.start() : domain.end()]
        spelt_at = not re.search(
            r"[ \t]+(?:at|@)[ \t]+", lower[at_start : domain.start("d")]
        )
        spelt_dot = re.search(r"dot|\[|\(|\{|<", domain["d"]) is not None
        if not (spelt_at or spelt_dot or re.search(r"[._\d]", local["l"])):
            continue  # "information at nhs.uk": a web address, said in words
        if local["l"] in WORDS and not (spelt_at or spelt_dot):
            continue
        del whole
        yield _Hit(local.start(), domain.end(), "email", reason)
        pos = domain.end()
