"""The keyed hashes an erasure keeps: HMAC-SHA256 of the lower-cased, trimmed email (and of a lead id), with
PRIVACY_HASH_SECRET. Without the secret a hash says nothing about who was erased, and no dictionary of
emails can be run against it; with it, the sync recognises an erased email on either side."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from hubspot_pipeline.settings import SANDBOX_CLIENT_ID, Settings, SettingsError, get_settings


def hash_secret(settings: Settings | None = None) -> bytes:
    """PRIVACY_HASH_SECRET; unset with a real HubSpot app (HUBSPOT_CLIENT_ID set) it is an error naming the
    variable; unset with the sandbox's app, derived from the local signing secret as other dev secrets are."""
    settings = settings or get_settings()
    if settings.privacy_hash_secret is not None and settings.privacy_hash_secret.get_secret_value().strip():
        return settings.privacy_hash_secret.get_secret_value().strip().encode()
    if settings.hubspot_client_id != SANDBOX_CLIENT_ID:
        raise SettingsError(
            "PRIVACY_HASH_SECRET is not set: GDPR erasure keeps a keyed hash of each erased email so the sync "
            "never re-creates the person, and with a real HubSpot app (HUBSPOT_CLIENT_ID is set) that key "
            "must be yours. Set it to a long random value (`python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'`) and never change it."
        )
    from hubspot_pipeline.hubspot.oauth_state import signing_secret

    return hmac.new(signing_secret(settings), b"privacy-hash-secret", hashlib.sha256).digest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_key(secret: bytes, email: str) -> str:
    return hmac.new(secret, b"email:" + normalise_email(email).encode(), hashlib.sha256).hexdigest()


def lead_key(secret: bytes, lead_id: object) -> str:
    return hmac.new(secret, b"lead:" + str(lead_id).lower().encode(), hashlib.sha256).hexdigest()


def email_keys(secret: bytes, emails: Iterable[str]) -> dict[str, str]:
    """{key: email} of the non-empty emails given (normalised)."""
    return {email_key(secret, e): normalise_email(e) for e in emails if e and normalise_email(e)}
