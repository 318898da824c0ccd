"""Token encryption at rest: round trip, rotation (old ciphertext reads during rotation), the local key file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hubspot_pipeline.hubspot.errors import HubSpotAuthError
from hubspot_pipeline.hubspot.tokens import TokenCipher, local_key

TOKEN = "CKDm9_uwMRIHAAEAQAAAARiO1ooBIIGOBig"


def test_a_token_round_trips_and_the_ciphertext_does_not_contain_it() -> None:
    cipher = TokenCipher([Fernet.generate_key().decode()])
    stored = cipher.encrypt(TOKEN)
    assert TOKEN not in stored
    assert cipher.decrypt(stored) == TOKEN


def test_after_a_new_key_is_prepended_old_ciphertext_still_reads_and_rotates() -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    stored = TokenCipher([old]).encrypt(TOKEN)
    during = TokenCipher([new, old])
    assert during.decrypt(stored) == TOKEN
    rotated = during.rotate(stored)
    assert TokenCipher([new]).decrypt(rotated) == TOKEN
    with pytest.raises(HubSpotAuthError, match="rotate-keys"):
        TokenCipher([new]).decrypt(stored)


def test_without_configured_keys_a_local_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = local_key(tmp_path)
    assert local_key(tmp_path) == first
    Fernet(first.encode())
    mode = stat.S_IMODE((tmp_path / "token_encryption.key").stat().st_mode)
    assert mode == 0o600
