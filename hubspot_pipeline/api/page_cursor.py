"""Opaque page cursors for newest-first lists: the (created_at, id) of a page's last row, as base64url JSON.
A cursor is only a position; every query still filters by the caller's workspace, so a cursor from another
workspace's pages lists nothing of theirs. Anything this module did not make is refused with a message."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import orjson

from hubspot_pipeline.api.errors import ApiError

MAX_LENGTH = 200  # a cursor made here is about 110 characters


def encode(created_at: datetime, row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([created_at.isoformat(), str(row_id)])).decode()


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor holds, or a 422 that says to start again without it."""
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii"))
        created, row_id = orjson.loads(raw)
        at = datetime.fromisoformat(created)
        if at.tzinfo is None:
            raise ValueError("a cursor's time has its time zone")
        return at, uuid.UUID(row_id)
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError, UnicodeError):
        raise ApiError(
            422,
            "invalid_cursor",
            "cursor is not one this endpoint gave (take next_cursor from the previous page as it is); "
            "start again without a cursor",
        ) from None
