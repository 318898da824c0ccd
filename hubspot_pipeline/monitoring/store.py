"""Figures in PostgreSQL: `record` adds a piece of work's figures to the counters every process shares;
`counter_rows` reads them back for a scrape.

    with engine.begin() as conn:
        record(conn, figures)          # in the caller's transaction: counted once, with what it counts

One upsert statement per call, rows in a fixed order (so two processes recording at once never deadlock).
A scrape reads one row per series and label set: a few hundred rows, however many runs there were.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.db.tables import metric_counters
from hubspot_pipeline.monitoring.figures import Figures


def record(conn: sa.Connection, figures: Figures) -> int:
    """Add the figures to the shared counters; returns how many series changed."""
    rows = [{"series": series, "labels": labels, "value": value} for series, labels, value in figures.rows()]
    if not rows:
        return 0
    statement = insert(metric_counters).values(rows)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[metric_counters.c.series, metric_counters.c.labels],
            set_={"value": metric_counters.c.value + statement.excluded.value, "updated_at": sa.func.now()},
        )
    )
    return len(rows)


def record_now(engine: sa.Engine, figures: Figures) -> int:
    """`record` in a transaction of its own."""
    if not figures:
        return 0
    with engine.begin() as conn:
        return record(conn, figures)


def counter_rows(conn: sa.Connection) -> list[tuple[str, dict[str, Any], float]]:
    """Every recorded series: (series, labels, value)."""
    rows = conn.execute(
        sa.select(metric_counters.c.series, metric_counters.c.labels, metric_counters.c.value).order_by(
            metric_counters.c.series
        )
    )
    return [(row.series, dict(row.labels), float(row.value)) for row in rows]
