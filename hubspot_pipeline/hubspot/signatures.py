"""HubSpot request signatures v1, v2 and v3, exactly as HubSpot computes them (reference §8.3).

Used both ways: the sandbox signs its webhook deliveries, the API verifies what it receives.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

MAX_TIMESTAMP_AGE_MS = 5 * 60 * 1000

# The only percent-encodings v3 decodes (case-insensitively); every other one, such as %20, stays as sent.
_V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_V3_PATTERN = re.compile("|".join(_V3_DECODED), re.IGNORECASE)
# Epoch milliseconds in ASCII digits only: str.isdigit() also passes "²", which int() then refuses.
_TIMESTAMP = re.compile(r"[0-9]{1,16}")


def sign_v1(client_secret: str, body: bytes) -> str:
    return hashlib.sha256(client_secret.encode() + body).hexdigest()


def sign_v2(client_secret: str, method: str, uri: str, body: bytes = b"") -> str:
    return hashlib.sha256(client_secret.encode() + method.upper().encode() + uri.encode() + body).hexdigest()


def decode_v3_uri(uri: str) -> str:
    return _V3_PATTERN.sub(lambda match: _V3_DECODED[match.group(0).upper()], uri)


def sign_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: int | str) -> str:
    source = method.upper().encode() + decode_v3_uri(uri).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(client_secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_v3(
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp_ms: str | None,
    *,
    now_ms: int | None = None,
) -> bool:
    """True when the v3 signature matches and the timestamp is at most five minutes old."""
    if not signature or not timestamp_ms or not _TIMESTAMP.fullmatch(timestamp_ms):
        return False
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if now_ms - int(timestamp_ms) > MAX_TIMESTAMP_AGE_MS:
        return False
    expected = sign_v3(client_secret, method, uri, body, timestamp_ms)
    return hmac.compare_digest(expected.encode(), signature.encode())


def verify_v2(client_secret: str, method: str, uri: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign_v2(client_secret, method, uri, body).encode(), signature.lower().encode())


def verify_v1(client_secret: str, body: bytes, signature: str | None) -> bool:
    if not signature:
        return False
    return hmac.compare_digest(sign_v1(client_secret, body).encode(), signature.lower().encode())
