"""`hubspot-pipeline demo` end to end, as `make demo` runs it: demo data, OAuth against the sandbox, HubSpot
seeded with overlapping contacts, the Dagster reconcile job, then the incremental job with nothing to do; then
the email activity logged, and logged again with nothing left; then engagement scores (reply intents, dbt
build, publication) pushed to the contacts, and again with nothing written; then two workflow triggers per
workspace executed (an interested reply enrols, a score crossing sets a property), and nothing executed the
second time. The console shows what each stage did in a
screenful; Dagster's run log goes to a file in the data folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROW = r"demo-\d+-\d\s+" + r"\s+".join([r"(\d+)"] * 13)
ACTIVITY_ROW = r"demo-\d+-\d\s+" + r"\s+".join([r"(\d+)"] * 10)
TRIGGER_ROW = r"(?m)demo-\d+-\d[ ]+" + r"[ ]+".join([r"(\d+)"] * 6) + r"[ ]*$"


def test_the_demo_syncs_both_ways_and_a_second_run_writes_nothing(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "HUBSPOT_PIPELINE_DATA_DIR": str(tmp_path)}
    env.pop("HUBSPOT_API_BASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "hubspot_pipeline.cli", "demo", "--leads", "60", "--workspaces", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert len(out.splitlines()) <= 90, out
    assert "DEBUG" not in out and "STEP_START" not in out
    assert "connected 2 workspaces through OAuth" in out
    before_triggers, triggers = out.split("run 7:")
    contacts, activity = before_triggers.split("run 3:")
    activity, engagement = activity.split("run 5:")
    first, second = contacts.split("run 2:")
    rows = re.findall(ROW, first)
    assert len(rows) == 2
    for row in rows:
        leads, contacts, push, push_new, pull, pull_new, conflicts, written, errors = map(int, row[:9])
        companies, companies_created, _updated, companies_pulled = map(int, row[9:])
        assert leads > 0 and contacts > 0 and push_new > 0 and pull_new > 0 and conflicts > 0
        assert written == push and pull >= pull_new and errors == 0 and companies > 0
        assert companies_created > 0 and companies_pulled > 0  # companies both ways
    assert "hubspot wins" in first
    companies = re.search(
        r"companies by domain: (\d+) kept by ColdCopy .* (\d+) paired with HubSpot, (\d+) named from HubSpot; "
        r"contacts associated in (\d+) batch",
        first,
    )
    assert companies and all(int(n) > 0 for n in companies.groups()), first
    # The second run writes nothing: no push, pull, conflict, error or company written either way. (What it
    # reads may not be 0: a loaded machine's first run outlasts the 30 s index lag, so the second reads
    # its echoes, and leaves them.)
    rows = re.findall(ROW, second)
    assert len(rows) == 2
    for row in rows:
        writes = [row[i] for i in (2, 3, 4, 5, 6, 7, 8, 10, 11, 12)]
        assert set(writes) == {"0"}, second
    assert re.search(r"HubSpot API calls: \d+ \(0 writes\)", second)
    run_log = (tmp_path / "logs" / "demo-dagster.log").read_text()
    assert run_log.count("RUN_SUCCESS") == 8 and "STEP_START" in run_log
    logged, again = activity.split("run 4:")
    rows = re.findall(ACTIVITY_ROW, logged)
    assert len(rows) == 2
    for row in rows:
        sent, opened, _clicked, _replied, _bounced, _unsubscribed, emails, timeline, waiting, errors = map(
            int, row
        )
        assert sent > 0 and opened > 0 and emails >= sent and timeline >= opened and waiting == errors == 0
    assert re.search(r"logged: sent \d+, opened \d+", logged)
    assert [
        row for row in re.findall(ACTIVITY_ROW, again) if set(row) == {"0"}
    ] and "logged: nothing" in again
    assert len(re.findall(ACTIVITY_ROW, again)) == 2
    scored, rescored = engagement.split("run 6:")
    published = re.search(
        r"reply intents decided: (\d+); dbt build passed .*scores published: (\d+) leads", scored
    )
    assert published and int(published.group(1)) > 0 and int(published.group(2)) > 0, scored
    pushed = re.search(
        r"contact sync: (\d+) contacts pushed; HubSpot API calls: \d+ \((\d+) writes\)", scored
    )
    assert pushed and int(pushed.group(1)) > 0 and int(pushed.group(2)) > 0, scored
    top = re.findall(r"^\s+(\d+)\s+(interested|not_interested|out_of_office|unsubscribe_request|referral|neutral|-)\s",
                     scored, flags=re.M)  # fmt: skip
    assert top and int(top[0][0]) > 0, scored
    on_hubspot = re.search(r"on HubSpot: contact \d+: coldcopy_engagement_score=(\d+)", scored)
    assert on_hubspot and int(on_hubspot.group(1)) == int(top[0][0]), scored
    # The second run: nothing decided, nothing published, nothing written.
    assert re.search(r"reply intents decided: 0; .*scores published: 0 leads", rescored), rescored
    assert re.search(r"contact sync: 0 contacts pushed; HubSpot API calls: \d+ \(0 writes\)", rescored), (
        rescored
    )
    executed, idle_triggers = triggers.split("run 8:")
    rows = re.findall(TRIGGER_ROW, executed)
    assert len(rows) == 2
    for row in rows:
        events, executions, success, failed, retrying, waiting = map(int, row)
        assert events > 0 and executions == success == 5 and failed == retrying == waiting == 0
    assert [row for row in re.findall(TRIGGER_ROW, idle_triggers) if set(row) == {"0"}] == [("0",) * 6] * 2
    assert "positive_reply success 4" in idle_triggers and "high_engagement success 6" in idle_triggers
    assert "contacts enrolled in HubSpot workflows: 4" in idle_triggers
