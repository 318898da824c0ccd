"""Deterministic demo data for ColdCopy's side: workspaces, campaigns, leads and email events.

The same seed and sizes give the same rows, ids included. Rows are built as whole columns with numpy and
loaded with PostgreSQL COPY, so a million leads load in seconds. The load runs under the bulk-load writer
setting: the lead outbox ignores it (a bulk load is picked up by the full reconcile, not row by row).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING
from hubspot_pipeline.db.tables.coldcopy import LEAD_STATUSES
from hubspot_pipeline.demo import names

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so the data do not depend on when they were made
CHUNK = 200_000  # rows built and copied at a time: bounds memory at any scale

# Funnel of a cold-email sequence: each step happens with this probability given the previous one.
P_OPENED, P_CLICKED, P_REPLIED, P_BOUNCED, P_UNSUBSCRIBED = 0.55, 0.25, 0.12, 0.03, 0.02


@dataclasses.dataclass(frozen=True)
class DemoSize:
    workspaces: int = 3
    leads: int = 300
    campaigns_per_workspace: int = 3
    events: bool = True


@dataclasses.dataclass
class LoadReport:
    workspaces: int = 0
    campaigns: int = 0
    leads: int = 0
    email_events: int = 0
    workspace_ids: list[str] = dataclasses.field(default_factory=list)


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return [str(uuid.UUID(bytes=row.tobytes())) for row in raw]


def _timestamps(base: datetime, seconds: np.ndarray) -> list[str]:
    return [(base + timedelta(seconds=int(s))).isoformat() for s in seconds]


def _pick(rng: np.random.Generator, words: list[str] | tuple[str, ...], count: int) -> np.ndarray:
    return np.asarray(words, dtype=object)[rng.integers(0, len(words), size=count)]


def _copy(cursor: psycopg.Cursor, table: str, columns: list[str], rows: Iterator[tuple]) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def lead_rows(seed: int, workspace_ids: list[str], total: int, start: int, stop: int) -> Iterator[tuple]:
    """Leads start..stop of `total`, spread round-robin over the workspaces."""
    rng = np.random.default_rng([seed, 1, start])
    count = stop - start
    ids = _uuids(rng, count)
    first = _pick(rng, names.FIRST_NAMES, count)
    last = _pick(rng, names.LAST_NAMES, count)
    stems = _pick(rng, names.COMPANY_STEMS, count)
    suffixes = _pick(rng, names.COMPANY_SUFFIXES, count)
    titles = _pick(rng, names.TITLES, count)
    industries = _pick(rng, names.INDUSTRIES, count)
    statuses = _pick(rng, LEAD_STATUSES, count)
    employees = rng.integers(2, 5000, size=count)
    phones = rng.integers(2_000_000, 9_999_999, size=count)
    has_phone = rng.random(count) < 0.6
    created = rng.integers(0, 300 * 86400, size=count)
    updated = created + rng.integers(0, 30 * 86400, size=count)
    created_at = _timestamps(EPOCH, created)
    updated_at = _timestamps(EPOCH, updated)
    for i in range(count):
        n = start + i
        company = f"{stems[i]} {suffixes[i]}"
        domain = f"{stems[i].lower()}{suffixes[i].lower()}{n % 997}.example.com"
        email = f"{first[i].lower()}.{last[i].lower().replace(' ', '')}{n}@{domain}"
        custom = json.dumps({"industry": industries[i], "employees": int(employees[i])})
        yield (
            ids[i],
            workspace_ids[n % len(workspace_ids)],
            email,
            first[i],
            last[i],
            company,
            titles[i],
            f"+1 415 {phones[i]}" if has_phone[i] else None,
            f"https://{domain}",
            custom,
            statuses[i],
            created_at[i],
            updated_at[i],
        )


LEAD_COLUMNS = [
    "id", "workspace_id", "email", "first_name", "last_name", "company", "title", "phone", "website",
    "custom_fields", "status", "created_at", "updated_at",
]  # fmt: skip


def event_rows(seed: int, start: int, leads: list[tuple], campaigns: dict[str, list[str]]) -> Iterator[tuple]:
    """A sequence's events for each lead: sent and delivered, then opens, clicks, replies, bounces."""
    rng = np.random.default_rng([seed, 2, start])
    count = len(leads)
    draws = rng.random((count, 5))
    offsets = rng.integers(60, 14 * 86400, size=(count, 4))
    ids = iter(_uuids(rng, count * 6))
    campaign_pick = rng.integers(0, 1 << 30, size=count)
    for i, lead in enumerate(leads):
        lead_id, workspace_id, created_at = lead[0], lead[1], datetime.fromisoformat(lead[11])
        options = campaigns[workspace_id]
        campaign_id = options[campaign_pick[i] % len(options)]
        sent = created_at + timedelta(hours=1)
        bounced = draws[i, 3] < P_BOUNCED
        events = [("sent", sent)]
        events.append(
            ("bounced", sent + timedelta(minutes=1))
            if bounced
            else ("delivered", sent + timedelta(seconds=5))
        )
        if not bounced and draws[i, 0] < P_OPENED:
            opened = sent + timedelta(seconds=int(offsets[i, 0]))
            events.append(("opened", opened))
            if draws[i, 1] < P_CLICKED:
                events.append(("clicked", opened + timedelta(seconds=int(offsets[i, 1]) // 10)))
            if draws[i, 2] < P_REPLIED:
                events.append(("replied", opened + timedelta(seconds=int(offsets[i, 2]))))
            elif draws[i, 4] < P_UNSUBSCRIBED:
                events.append(("unsubscribed", opened + timedelta(seconds=int(offsets[i, 3]))))
        for event_type, at in events:
            yield (
                next(ids),
                workspace_id,
                lead_id,
                campaign_id,
                event_type,
                at.isoformat(),
                json.dumps({"step": 1}),
            )


def load(conninfo: str, size: DemoSize, seed: int = 7, progress=None) -> LoadReport:
    """Insert demo rows through COPY; returns what was loaded. `progress(done, total)` is called per chunk."""
    report = LoadReport()
    rng = np.random.default_rng([seed, 0])
    workspace_ids = _uuids(rng, size.workspaces)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", (WRITER_SETTING, BULK_LOAD_WRITER))
        report.workspaces = _copy(
            cursor,
            "workspaces",
            ["id", "name", "slug"],
            ((wid, f"Demo Workspace {i + 1}", f"demo-{seed}-{i + 1}") for i, wid in enumerate(workspace_ids)),
        )
        campaigns = {wid: _uuids(rng, size.campaigns_per_workspace) for wid in workspace_ids}
        report.campaigns = _copy(
            cursor,
            "campaigns",
            ["id", "workspace_id", "name"],
            (
                (cid, wid, names.CAMPAIGN_NAMES[j % len(names.CAMPAIGN_NAMES)])
                for wid, cids in campaigns.items()
                for j, cid in enumerate(cids)
            ),
        )
        for start in range(0, size.leads, CHUNK):
            stop = min(start + CHUNK, size.leads)
            chunk = list(lead_rows(seed, workspace_ids, size.leads, start, stop))
            report.leads += _copy(cursor, "leads", LEAD_COLUMNS, iter(chunk))
            if size.events:
                report.email_events += _copy(
                    cursor,
                    "email_events",
                    ["id", "workspace_id", "lead_id", "campaign_id", "event_type", "occurred_at", "metadata"],
                    event_rows(seed, start, chunk, campaigns),
                )
            if progress:
                progress(stop, size.leads)
        conn.commit()
    report.workspace_ids = workspace_ids
    return report
