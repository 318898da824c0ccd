"""Token encryption at rest: Fernet ciphertext only, never a clear token in the database.

Keys come from `TOKEN_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first). Rotation: prepend a new
key, deploy, then run `hubspot-pipeline rotate-keys`; until then, ciphertext made with an older key still
decrypts, because MultiFernet tries every key. With the variable unset, a key is generated once and kept in
`<data_dir>/token_encryption.key` (mode 0600), so a local install works with no configuration.

    cipher = TokenCipher.from_settings()
    stored = cipher.encrypt("token")        # str, safe to store
    cipher.decrypt(stored)                  # "token"
    cipher.rotate(stored)                   # re-encrypted with the newest key
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from hubspot_pipeline.hubspot.errors import HubSpotAuthError, register_secret
from hubspot_pipeline.local_secret import local_secret
from hubspot_pipeline.settings import Settings, get_settings

LOCAL_KEY_FILE = "token_encryption.key"


def local_key(data_dir: Path) -> str:
    """The generated local key, created on first use; readable by the owner only."""
    return local_secret(data_dir, LOCAL_KEY_FILE, Fernet.generate_key).decode()


def configured_keys(settings: Settings) -> list[str]:
    if settings.token_encryption_keys is not None:
        return [
            key.strip() for key in settings.token_encryption_keys.get_secret_value().split(",") if key.strip()
        ]
    return [local_key(settings.data_dir)]


class TokenCipher:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed (TOKEN_ENCRYPTION_KEYS)")
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> TokenCipher:
        return cls(configured_keys(settings or get_settings()))

    def encrypt(self, token: str) -> str:
        register_secret(token)
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            token = self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise HubSpotAuthError(
                "A stored HubSpot token cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS: a key that "
                "encrypted it was removed before `hubspot-pipeline rotate-keys` ran. Put the old key back (after "
                "the new one) and rotate, or reconnect HubSpot for the workspace",
                category="TOKEN_DECRYPTION_FAILED",
            ) from None
        register_secret(token)
        return token

    def rotate(self, ciphertext: str) -> str:
        """The same token, encrypted with the newest key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise HubSpotAuthError(
                "A stored HubSpot token cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS",
                category="TOKEN_DECRYPTION_FAILED",
            ) from None
