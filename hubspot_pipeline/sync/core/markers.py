"""Names the plan and the store share: the columns of pair state, the marker of an ended pair, the id of a
lead still to create, the fallback column of change times."""

from __future__ import annotations

STATE_COLUMNS = ["hubspot_id", "sync_hash", "agreed", "status"]  # a pair's state, by lead id
TOMBSTONE = "_tombstone"  # key in `agreed` of a pair the sync no longer syncs (deleted, archived, merged)
NEW_LEAD_PREFIX = "new:"  # placeholder lead id of a lead to create from a HubSpot contact
ROW_TIME = "*"  # column of a change-time frame used when a field has no time of its own
