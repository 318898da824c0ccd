"""One activity batch per workspace at a time, whoever starts it (a Dagster run, the CLI, a test): a
PostgreSQL session advisory lock, held on a connection of its own for the whole batch. PostgreSQL drops it the
moment its holder's connection ends, killed or not, so in-flight rows left behind always belong to a batch that
is over, and recovery may resolve them."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

WAIT_SECONDS = 600


class ActivityBatchBusy(RuntimeError):
    """Another activity batch of the workspace held the lock for longer than the wait."""


def _key(workspace_id: uuid.UUID) -> int:
    digest = hashlib.blake2b(f"activity_batch:{workspace_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def workspace_activity_lock(
    engine: sa.Engine, workspace_id: uuid.UUID, wait_seconds: float = WAIT_SECONDS
) -> Iterator[None]:
    with engine.connect() as conn:
        try:
            # Transaction-local: the wait limit ends with this transaction; the session lock stays.
            conn.execute(
                sa.text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": str(int(wait_seconds * 1000))}
            )
            conn.execute(sa.select(sa.func.pg_advisory_lock(_key(workspace_id))))
            conn.commit()
        except sa.exc.OperationalError as error:
            conn.rollback()
            raise ActivityBatchBusy(
                f"another activity batch of workspace {workspace_id} ran for more than {wait_seconds:.0f} s; "
                "this one gave up waiting: run it again once that one has finished"
            ) from error
        try:
            yield
        finally:
            conn.execute(sa.select(sa.func.pg_advisory_unlock(_key(workspace_id))))
            conn.commit()
