"""The app's event templates as last made or checked: id and definition hash per event type."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import hubspot_event_templates


def stored_templates(conn: sa.Connection, app_id: int) -> dict[str, tuple[str, str]]:
    """event type -> (template id, definition hash)."""
    t = hubspot_event_templates
    rows = conn.execute(
        sa.select(t.c.event_type, t.c.template_id, t.c.definition_hash).where(t.c.app_id == app_id)
    )
    return {row.event_type: (row.template_id, row.definition_hash) for row in rows}


def save_template(conn: sa.Connection, app_id: int, event_type: str, template_id: str, digest: str) -> None:
    t = hubspot_event_templates
    statement = insert(t).values(
        app_id=app_id, event_type=event_type, template_id=str(template_id), definition_hash=digest
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[t.c.app_id, t.c.event_type],
            set_={
                "template_id": statement.excluded.template_id,
                "definition_hash": statement.excluded.definition_hash,
                "updated_at": sa.func.now(),
            },
        )
    )


def forget_templates(conn: sa.Connection, app_id: int) -> None:
    """HubSpot no longer has a stored template (deleted in the app's settings): check them all next time."""
    conn.execute(sa.delete(hubspot_event_templates).where(hubspot_event_templates.c.app_id == app_id))


def _lock_key(app_id: int) -> int:
    digest = hashlib.blake2b(f"hubspot_event_templates:{app_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def templates_lock(conn: sa.Connection, app_id: int) -> Iterator[None]:
    """Held (for the caller's transaction) while templates are listed and made: two runs starting together
    never both create a template."""
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_key(app_id))))
    yield
