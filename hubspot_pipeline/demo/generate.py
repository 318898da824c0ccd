"""Deterministic demo data for ColdCopy's side: workspaces, campaigns, leads, the messages of their email
sequences (sent and received) and the email events that refer to them.

The same seed and sizes give the same rows, ids included. Rows are built as whole columns with numpy and
loaded with PostgreSQL COPY, so a million leads load in seconds. The load runs under the bulk-load writer
setting: the lead outbox ignores it (a bulk load is picked up by the full reconcile, not row by row).
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from hubspot_pipeline.db import jsonb
from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING
from hubspot_pipeline.db.tables.coldcopy import LEAD_STATUSES
from hubspot_pipeline.demo import messages as texts
from hubspot_pipeline.demo import names

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so the data do not depend on when they were made
CHUNK = 200_000  # rows built and copied at a time: bounds memory at any scale
ACTIVITY_CHUNK = 20_000  # leads whose messages (bodies included) and events are built at a time

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
    email_messages: int = 0
    email_events: int = 0
    workspace_ids: list[str] = dataclasses.field(default_factory=list)


def _uuid_texts(rng: np.random.Generator, count: int) -> Iterator[str]:
    """`count` random version-4 UUIDs as text, formatted as they are taken (uuid.UUID's str, without
    building a UUID object each: that was most of the generator's time)."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text = raw.tobytes().hex()
    for start in range(0, 32 * count, 32):
        h = text[start : start + 32]
        yield f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuids(rng: np.random.Generator, count: int) -> list[str]:
    return list(_uuid_texts(rng, count))


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
        # COPY's text for a jsonb column: encoded once, by the one encoder (db/jsonb.py).
        custom = jsonb.dumps({"industry": industries[i], "employees": int(employees[i])}).decode()
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


MESSAGE_COLUMNS = [
    "id", "workspace_id", "lead_id", "campaign_id", "campaign_step", "direction", "message_id_header",
    "in_reply_to_header", "from_address", "from_name", "to_address", "to_name", "subject", "body_text",
    "body_html", "sent_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "id", "workspace_id", "lead_id", "campaign_id", "event_type", "occurred_at", "metadata", "message_id",
    "link_url", "bounce_reason",
]  # fmt: skip
STEPS = 2  # the first email and one follow-up, sent when the first got no reply
FOLLOW_UP_AFTER = timedelta(days=3)
REPLY_INTENT_WEIGHTS = np.cumsum([weight for _, weight, _ in texts.REPLIES])


@dataclasses.dataclass(frozen=True)
class Sender:
    name: str
    address: str
    domain: str


def senders_for(seed: int, workspace_ids: list[str]) -> dict[str, Sender]:
    """Each demo workspace's sending persona and mail domain."""
    out = {}
    for i, workspace_id in enumerate(workspace_ids):
        first = names.FIRST_NAMES[(seed * 7 + i * 13) % len(names.FIRST_NAMES)]
        last = names.LAST_NAMES[(seed * 5 + i * 11) % len(names.LAST_NAMES)]
        domain = f"demo-{seed}-{i + 1}.example.com"
        out[workspace_id] = Sender(f"{first} {last}", f"{first.lower()}@{domain}", domain)
    return out


def _html(text: str) -> str:
    paragraphs = (html.escape(part).replace("\n", "<br>") for part in text.split("\n\n"))
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)


def activity_rows(
    seed: int, start: int, leads: list[tuple], campaigns: dict[str, list[str]], senders: dict[str, Sender]
) -> tuple[list[tuple], list[tuple]]:
    """Each lead's sequence as messages and the events that refer to them: a first email and, without a
    reply, a follow-up in the same thread; each delivered or bounced, perhaps opened, clicked, replied to
    (interested, not interested, out of office, unsubscribe request, referral) or unsubscribed from."""
    rng = np.random.default_rng([seed, 2, start])
    count = len(leads)
    draws = rng.random((count, STEPS, 6))
    offsets = rng.integers(60, 3 * 86400, size=(count, STEPS, 4))
    picks = rng.integers(0, 1 << 30, size=(count, STEPS, 6))
    ids = _uuid_texts(rng, count * STEPS * 10)  # at most 9 per step: a message, 5 events, a reply
    messages: list[tuple] = []
    events: list[tuple] = []
    for i, lead in enumerate(leads):
        lead_id, workspace_id, email, first, last, company, title = lead[:7]
        sender = senders[workspace_id]
        options = campaigns[workspace_id]
        campaign_id = options[int(picks[i, 0, 5]) % len(options)]
        fill = {
            "first": first,
            "company": company,
            "title": title.lower(),
            "sender": sender.name,
            "sender_first": sender.name.split()[0],
            "colleague": f"{names.FIRST_NAMES[int(picks[i, 0, 4]) % len(names.FIRST_NAMES)]} {last}",
        }
        sent = datetime.fromisoformat(lead[11]) + timedelta(hours=1)
        thread: str | None = None
        for step in range(1, STEPS + 1):
            d, o, p = draws[i, step - 1], offsets[i, step - 1], picks[i, step - 1]
            if step > 1:
                sent += FOLLOW_UP_AFTER
            message_id, header = next(ids), f"<{next(ids).replace('-', '')}@mail.{sender.domain}>"
            subject = texts.SUBJECTS[step][int(p[0]) % len(texts.SUBJECTS[step])].format(**fill)
            body = texts.OPENERS[step][int(p[1]) % len(texts.OPENERS[step])].format(**fill)
            body += texts.SIGNATURE.format(**fill)
            messages.append(
                (message_id, workspace_id, lead_id, campaign_id, step, "sent", header, thread, sender.address,
                 sender.name, email, f"{first} {last}", subject, body, _html(body), sent.isoformat())
            )  # fmt: skip
            thread = thread or header

            base = (workspace_id, lead_id, campaign_id, step)
            events.append(_event(ids, base, "sent", sent, message_id))
            if step == 1 and d[3] < P_BOUNCED:
                reason = texts.BOUNCE_REASONS[int(p[2]) % len(texts.BOUNCE_REASONS)]
                events.append(
                    _event(ids, base, "bounced", sent + timedelta(minutes=1), message_id, reason=reason)
                )
                break
            events.append(_event(ids, base, "delivered", sent + timedelta(seconds=5), message_id))
            if d[0] >= P_OPENED:
                continue
            opened = sent + timedelta(seconds=int(o[0]))
            events.append(_event(ids, base, "opened", opened, message_id))
            if d[1] < P_CLICKED:
                path = texts.LINK_PATHS[int(p[3]) % len(texts.LINK_PATHS)]
                url = f"https://{sender.domain}{path}?utm_source=coldcopy&utm_campaign=step{step}"
                events.append(
                    _event(
                        ids, base, "clicked", opened + timedelta(seconds=int(o[1]) // 10), message_id, url=url
                    )
                )
            if d[2] < P_REPLIED:
                intent = int(
                    np.searchsorted(REPLY_INTENT_WEIGHTS, d[5] * REPLY_INTENT_WEIGHTS[-1], side="right")
                )
                kind, _, bodies = texts.REPLIES[min(intent, len(texts.REPLIES) - 1)]
                replied_at = opened + timedelta(seconds=int(o[2]))
                fill["return_day"] = (replied_at + timedelta(days=5)).strftime("%A %d %B")
                reply_id, reply_header = next(ids), f"<{next(ids).replace('-', '')}@mail.{domain_of(email)}>"
                text = bodies[int(p[4]) % len(bodies)].format(**fill)
                messages.append(
                    (reply_id, workspace_id, lead_id, campaign_id, step, "received", reply_header, header,
                     email, f"{first} {last}", sender.address, sender.name, f"Re: {subject}", text, None,
                     replied_at.isoformat())
                )  # fmt: skip
                events.append(_event(ids, base, "replied", replied_at, reply_id))
                if kind != "out_of_office":
                    break
            elif d[4] < P_UNSUBSCRIBED:
                events.append(
                    _event(ids, base, "unsubscribed", opened + timedelta(seconds=int(o[3])), message_id)
                )
                break
    return messages, events


def _event(
    ids: Iterator[str],
    base: tuple[str, str, str, int],
    kind: str,
    at: datetime,
    message: str,
    url: str | None = None,
    reason: str | None = None,
) -> tuple:
    workspace_id, lead_id, campaign_id, step = base
    meta = jsonb.dumps({"step": step}).decode()
    return (next(ids), workspace_id, lead_id, campaign_id, kind, at.isoformat(), meta, message, url, reason)


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[1]


def load(conninfo: str, size: DemoSize, seed: int = 7, progress=None) -> LoadReport:
    """Insert demo rows through COPY; returns what was loaded. `progress(done, total)` is called per chunk."""
    report = LoadReport()
    rng = np.random.default_rng([seed, 0])
    workspace_ids = _uuids(rng, size.workspaces)
    senders = senders_for(seed, workspace_ids)
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
                for first in range(0, len(chunk), ACTIVITY_CHUNK):
                    part = chunk[first : first + ACTIVITY_CHUNK]
                    messages, events = activity_rows(seed, start + first, part, campaigns, senders)
                    report.email_messages += _copy(cursor, "email_messages", MESSAGE_COLUMNS, iter(messages))
                    report.email_events += _copy(cursor, "email_events", EVENT_COLUMNS, iter(events))
            if progress:
                progress(stop, size.leads)
        conn.commit()
    report.workspace_ids = workspace_ids
    return report
