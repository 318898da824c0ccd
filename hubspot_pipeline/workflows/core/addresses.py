"""Where a custom action may send: https to public addresses only, unless WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS
allows private networks and plain http (a local receiver in tests and development).

The host is checked after DNS resolution (every address it resolves to), when the trigger is saved and again
before every delivery, which then connects to the address it checked (`custom_action.pin`: no second lookup
for a rebinding DNS to answer differently); redirects are never followed (a delivery answered 3xx fails, naming where it pointed),
so a public URL cannot hand the request on to an internal one. This module is the pure part: the URL's shape
and an address's range.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from dataclasses import dataclass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int


def parse_target(url: str, *, allow_private: bool) -> Target | str:
    """The URL's scheme, host and port, or what is wrong with it (a sentence's end)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        return (
            "must use https"
            if not allow_private
            else "must use https or http (WORKFLOW_ACTIONS_ALLOW_PRIVATE_URLS allows http)"
        )
    if not parts.hostname:
        return "has no host"
    if parts.username or parts.password:
        return "must not carry a user name or password (the body is signed instead)"
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


def address_problem(address: str) -> str | None:
    """Why a custom action may not reach this IP address, or None when it is public."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for refused, label in (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_private, "private"),
        (ip.is_multicast, "multicast"),
        (ip.is_reserved, "reserved"),
        (ip.is_unspecified, "unspecified"),
        (not ip.is_global, "not public"),
    ):
        if refused:
            return f"resolves to {ip}, a {label} address"
    return None
