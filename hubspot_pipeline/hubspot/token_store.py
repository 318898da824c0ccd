"""Where a workspace's OAuth tokens live: `hubspot_integrations`, as Fernet ciphertext only.

    store = TokenStore(engine, TokenCipher.from_settings())
    store.save(workspace_id, token_set)                   # after the code exchange (upsert, one row per workspace)
    store.load(workspace_id) -> TokenSet                  # decrypted, in memory only
    store.mark_needs_reconnect(workspace_id, message)     # hubspot_sync_config.connection_status
    store.delete_tokens(workspace_id)                     # on disconnect
    store.rotate_all() -> int                             # re-encrypt every row with the newest key

`locked_refresh(workspace_id, refresh)` runs one refresh at a time per portal across every process: a
transaction-scoped advisory lock on the hub id, then the row is re-read, so a process that waited finds the
tokens another one just stored and does not refresh again. Each refresh, and each failed one (with its error
type and status, never its text), joins the audit log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db import audit
from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_config
from hubspot_pipeline.hubspot.errors import HubSpotAuthError, HubSpotError
from hubspot_pipeline.hubspot.oauth import TokenSet
from hubspot_pipeline.hubspot.tokens import TokenCipher

ACTOR = "hubspot-client"


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _lock_key(hub_id: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"hubspot-refresh:{hub_id}".encode()).digest()[:8], "big", signed=True
    )


class TokenStore:
    def __init__(self, engine: sa.Engine, cipher: TokenCipher) -> None:
        self.engine = engine
        self.cipher = cipher

    def save(self, workspace_id: uuid.UUID, tokens: TokenSet, conn: sa.Connection | None = None) -> None:
        values = {
            "access_token": self.cipher.encrypt(tokens.access_token),
            "refresh_token": self.cipher.encrypt(tokens.refresh_token),
            "expires_at": _naive_utc(tokens.expires_at),
            "updated_at": sa.func.timezone("UTC", sa.func.now()),
        }
        if tokens.scopes:
            values["scopes"] = list(tokens.scopes)
        if conn is None:
            with self.engine.begin() as own:
                self._save(own, workspace_id, tokens, values)
        else:
            self._save(conn, workspace_id, tokens, values)

    def _save(self, conn: sa.Connection, workspace_id: uuid.UUID, tokens: TokenSet, values: dict) -> None:
        updated = conn.execute(
            sa.update(hubspot_integrations)
            .where(hubspot_integrations.c.workspace_id == workspace_id)
            .values(**values)
        ).rowcount
        if not updated:
            conn.execute(
                sa.insert(hubspot_integrations).values(
                    workspace_id=workspace_id, hub_id=tokens.hub_id or "", **values
                )
            )
        self._set_status(conn, workspace_id, "connected", None)

    def load(self, workspace_id: uuid.UUID, conn: sa.Connection | None = None) -> TokenSet:
        query = sa.select(hubspot_integrations).where(hubspot_integrations.c.workspace_id == workspace_id)
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).one_or_none()
        else:
            row = conn.execute(query).one_or_none()
        if row is None or not row.access_token or not row.refresh_token:
            raise HubSpotAuthError(
                f"Workspace {workspace_id} has no HubSpot connection; connect HubSpot from the workspace settings",
                category="NOT_CONNECTED",
                context={"workspace_id": str(workspace_id)},
            )
        return TokenSet(
            access_token=self.cipher.decrypt(row.access_token),
            refresh_token=self.cipher.decrypt(row.refresh_token),
            expires_at=(row.expires_at or dt.datetime(1970, 1, 1)).replace(tzinfo=dt.UTC),
            hub_id=row.hub_id,
            scopes=tuple(row.scopes or ()),
        )

    def hub_id(self, workspace_id: uuid.UUID) -> str:
        with self.engine.connect() as conn:
            hub = conn.execute(
                sa.select(hubspot_integrations.c.hub_id).where(
                    hubspot_integrations.c.workspace_id == workspace_id
                )
            ).scalar_one_or_none()
        return hub or str(workspace_id)

    def locked_refresh(
        self,
        workspace_id: uuid.UUID,
        still_needed: Callable[[TokenSet], bool],
        refresh: Callable[[str], TokenSet],
    ) -> TokenSet:
        """Refresh under the portal's lock unless another process already did; returns the current tokens."""
        hub_id = self.hub_id(workspace_id)
        with self.engine.begin() as conn:
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(hub_id))))
            current = self.load(workspace_id, conn)
            if not still_needed(current):
                return current
            try:
                fresh = refresh(current.refresh_token)
            except HubSpotError as error:
                failure = error
            else:
                # HubSpot may or may not rotate the refresh token: always keep the newest one it returned.
                self.save(workspace_id, fresh, conn)
                audit.record(
                    conn,
                    workspace_id=workspace_id,
                    actor=ACTOR,
                    action="hubspot.token_refresh",
                    target="hubspot_integrations",
                    details={"hub_id": hub_id},
                )
                return fresh
        with self.engine.begin() as conn:  # the lock's transaction ended with the failure: a new one
            audit.record(
                conn,
                workspace_id=workspace_id,
                actor=ACTOR,
                action="hubspot.token_refresh_failed",
                target="hubspot_integrations",
                details={
                    "hub_id": hub_id,
                    "error_type": failure.kind,
                    "status": failure.status,
                    "category": failure.category,
                },
            )
            if isinstance(failure, HubSpotAuthError) and failure.category == "invalid_grant":
                self._mark(conn, workspace_id, failure.message)
        raise failure

    def mark_needs_reconnect(self, workspace_id: uuid.UUID, message: str) -> None:
        with self.engine.begin() as conn:
            self._mark(conn, workspace_id, message)

    def _mark(self, conn: sa.Connection, workspace_id: uuid.UUID, message: str) -> None:
        self._set_status(conn, workspace_id, "needs_reconnect", message)
        audit.record(
            conn,
            workspace_id=workspace_id,
            actor=ACTOR,
            action="hubspot.needs_reconnect",
            target="hubspot_integrations",
            details={"reason": message},
        )

    def _set_status(
        self, conn: sa.Connection, workspace_id: uuid.UUID, status: str, error: str | None
    ) -> None:
        statement = insert(hubspot_sync_config).values(
            workspace_id=workspace_id, connection_status=status, connection_error=error
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[hubspot_sync_config.c.workspace_id],
                set_={"connection_status": status, "connection_error": error, "updated_at": sa.func.now()},
            )
        )

    def delete_tokens(self, workspace_id: uuid.UUID) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(hubspot_integrations)
                .where(hubspot_integrations.c.workspace_id == workspace_id)
                .values(access_token=None, refresh_token=None, expires_at=None)
            )
            self._set_status(conn, workspace_id, "disconnected", None)

    def rotate_all(self) -> tuple[int, list[str]]:
        """Re-encrypt every stored token with the newest key.

        Returns (rows rewritten, workspace ids whose tokens no configured key can read: those need the old
        key put back, or a reconnect)."""
        count, unreadable = 0, []
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(
                    hubspot_integrations.c.id,
                    hubspot_integrations.c.workspace_id,
                    hubspot_integrations.c.access_token,
                    hubspot_integrations.c.refresh_token,
                ).with_for_update()
            ).all()
            for row in rows:
                try:
                    values = {
                        column: self.cipher.rotate(value)
                        for column, value in (
                            ("access_token", row.access_token),
                            ("refresh_token", row.refresh_token),
                        )
                        if value
                    }
                except HubSpotAuthError:
                    unreadable.append(str(row.workspace_id))
                    continue
                if values:
                    conn.execute(
                        sa.update(hubspot_integrations)
                        .where(hubspot_integrations.c.id == row.id)
                        .values(**values)
                    )
                    count += 1
        return count, unreadable
