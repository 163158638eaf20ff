"""The shipped deploy files keep the client's address unforgeable.

Daphne runs with ``--proxy-headers`` and takes the *first* X-Forwarded-For
entry as the client address, which Django sees as REMOTE_ADDR and the audit
trail records. nginx must therefore overwrite the header with the address it
saw, never append to whatever the client sent.
"""

import re
from pathlib import Path

from daphne.utils import parse_x_forwarded_for

from workspace.audit import client_ip

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _nginx_conf() -> str:
    text = (DEPLOY / "nginx.conf").read_text()
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _proxied_locations(conf: str) -> dict[str, str]:
    """Each ``location`` block that proxies, by its path, as text."""
    blocks = {}
    for match in re.finditer(r"location\s+(\S+)\s*\{", conf):
        depth, i = 1, match.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(conf[i], 0)
            i += 1
        body = conf[match.end() : i - 1]
        if "proxy_pass" in body:
            blocks[match.group(1)] = body
    return blocks


def _forwarded_for_value(block: str) -> str | None:
    match = re.search(r"proxy_set_header\s+X-Forwarded-For\s+(\S+?);", block)
    return match.group(1) if match else None


def _nginx_sends(value: str, *, client_sent: str | None, remote_addr: str) -> str:
    """The X-Forwarded-For nginx passes upstream for one of its variables."""
    if value == "$remote_addr":
        return remote_addr
    if value == "$proxy_add_x_forwarded_for":
        return f"{client_sent}, {remote_addr}" if client_sent else remote_addr
    raise AssertionError(f"unexpected X-Forwarded-For value {value}")


def test_every_proxied_location_overwrites_x_forwarded_for_with_remote_addr():
    conf = _nginx_conf()
    locations = _proxied_locations(conf)
    assert set(locations) == {"/", "/ws/"}
    for path, block in locations.items():
        assert _forwarded_for_value(block) == "$remote_addr", path
    assert "$proxy_add_x_forwarded_for" not in conf


def test_forged_leading_forwarded_entry_never_reaches_the_audit_ip(rf):
    """A client's own X-Forwarded-For, through nginx and Daphne, is discarded."""
    real, forged = "198.51.100.4", "203.0.113.66"
    for block in _proxied_locations(_nginx_conf()).values():
        header = _nginx_sends(
            _forwarded_for_value(block), client_sent=forged, remote_addr=real
        )
        (address, _port), _scheme = parse_x_forwarded_for(
            {b"x-forwarded-for": [header.encode()]},
            original_addr=["127.0.0.1", 50000],
        )
        request = rf.get("/", REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=header)
        assert client_ip(request) == real


def test_daphne_only_listens_on_loopback_behind_nginx():
    """Proxy headers are trusted only because nothing but nginx can connect."""
    lines = [
        *(DEPLOY / "Procfile").read_text().splitlines(),
        *(DEPLOY / "consilium-web@.service").read_text().splitlines(),
    ]
    daphnes = [line for line in lines if "daphne" in line and "--proxy-headers" in line]
    assert daphnes
    for line in daphnes:
        assert "-b 127.0.0.1" in line, line
