"""Workspace API keys: issued once in clear, stored as SHA-256 hashes, revocable.

A key looks like `hpk_<8-char prefix>_<secret>`; the prefix is stored in clear so that operators can tell
keys apart in `api-key list` without the key itself ever being stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from hubspot_pipeline.db.tables import workspace_api_keys, workspaces

KEY_SCHEME = "hpk"


@dataclass(frozen=True)
class IssuedKey:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    key: str  # shown once, never stored


@dataclass(frozen=True)
class KeyInfo:
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    key_prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_key(conn: sa.Connection, workspace_id: uuid.UUID, name: str) -> IssuedKey:
    exists = conn.execute(sa.select(workspaces.c.id).where(workspaces.c.id == workspace_id)).first()
    if exists is None:
        raise LookupError(f"no workspace with id {workspace_id}; list workspaces in the `workspaces` table")
    prefix = secrets.token_hex(4)
    key = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
    key_id = conn.execute(
        sa.insert(workspace_api_keys)
        .values(workspace_id=workspace_id, name=name, key_prefix=prefix, key_hash=hash_key(key))
        .returning(workspace_api_keys.c.id)
    ).scalar_one()
    return IssuedKey(id=key_id, workspace_id=workspace_id, name=name, key=key)


def revoke_key(conn: sa.Connection, workspace_id: uuid.UUID, key_prefix_or_id: str) -> int:
    """Revoke the workspace's key with this prefix (or id); returns how many keys were revoked."""
    match = workspace_api_keys.c.key_prefix == key_prefix_or_id
    with contextlib.suppress(ValueError):
        match = sa.or_(match, workspace_api_keys.c.id == uuid.UUID(key_prefix_or_id))
    result = conn.execute(
        sa.update(workspace_api_keys)
        .where(
            workspace_api_keys.c.workspace_id == workspace_id,
            match,
            workspace_api_keys.c.revoked_at.is_(None),
        )
        .values(revoked_at=sa.func.now())
    )
    return result.rowcount


def list_keys(conn: sa.Connection, workspace_id: uuid.UUID) -> list[KeyInfo]:
    rows = conn.execute(
        sa.select(workspace_api_keys)
        .where(workspace_api_keys.c.workspace_id == workspace_id)
        .order_by(workspace_api_keys.c.created_at)
    )
    return [
        KeyInfo(
            id=row.id,
            workspace_id=row.workspace_id,
            name=row.name,
            key_prefix=row.key_prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            revoked_at=row.revoked_at,
        )
        for row in rows
    ]


def authenticate(conn: sa.Connection, key: str) -> uuid.UUID | None:
    """The workspace of a valid, unrevoked key, or None. Marks the key as used."""
    if not key.startswith(f"{KEY_SCHEME}_") or len(key) > 200:
        return None
    return conn.execute(
        sa.update(workspace_api_keys)
        .where(workspace_api_keys.c.key_hash == hash_key(key), workspace_api_keys.c.revoked_at.is_(None))
        .values(last_used_at=sa.func.now())
        .returning(workspace_api_keys.c.workspace_id)
    ).scalar_one_or_none()
