"""The webhook-queue and sync-request sensors, evaluated against the test database and a test Dagster
instance: cursors, bounded batches, run keys, partitions, and outcomes written back. The runs themselves
(contacts_sync_job) are the contact sync's; the end-to-end test drives them."""

from __future__ import annotations

import threading
import time

import dagster as dg
import sqlalchemy as sa
from api_support import Tenant, url
from dagster_runs import add_run
from fastapi.testclient import TestClient
from test_webhooks import event, post

from hubspot_pipeline.api.webhook_ingest import store_events
from hubspot_pipeline.db.tables import hubspot_sync_config, sync_requests, webhook_events, workspaces
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.webhooks import sensors
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource


def _max_event_id(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(webhook_events.c.id), 0))).scalar_one()


def _max_request_seq(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.coalesce(sa.func.max(sync_requests.c.seq), 0))).scalar_one()


def _tick(sensor, instance: dg.DagsterInstance, cursor: int):
    resources = {"sync_settings": SyncSettingsResource()}  # the test database, through DATABASE_URL
    return sensor(dg.build_sensor_context(instance=instance, cursor=str(cursor), resources=resources))


def _slug(engine: sa.Engine, tenant: Tenant) -> str:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(workspaces.c.slug).where(workspaces.c.id == tenant.workspace_id)
        ).scalar_one()


def test_one_run_per_workspace_with_new_events_keyed_by_the_cursor_range(
    client, engine, tenant, other_tenant
):
    start = _max_event_id(engine)
    post(client, [event(tenant.hub_id), event(tenant.hub_id, objectId=2)])
    post(client, [event(other_tenant.hub_id)])
    with dg.instance_for_test() as instance:
        result = _tick(sensors.webhook_queue_sensor, instance, start)
    end = _max_event_id(engine)
    assert result.cursor == str(end)
    by_partition = {request.partition_key: request for request in result.run_requests}
    slug = _slug(engine, tenant)
    assert set(by_partition) == {slug, _slug(engine, other_tenant)}
    mine = by_partition[slug]
    assert mine.run_key == f"webhooks:{slug}:{start}-{end}"
    assert mine.tags[sensors.EVENTS_TAG] == f"{start}-{end}"
    assert mine.tags[tags.WORKSPACE_ID] == str(tenant.workspace_id)
    assert mine.tags[tags.TRIGGER] == "webhooks"
    # The run queue launches it before queued full syncs and schedule runs (dagster.yaml's queue, priority 1).
    assert mine.tags["dagster/priority"] == "1"
    # The sync's assets without their consistency checks: the schedule's runs check (contacts/jobs.py).
    assert len(mine.asset_selection) == 7 and mine.asset_check_keys == []
    (added,) = result.dynamic_partitions_requests
    assert set(added.partition_keys) == set(by_partition)


def test_a_tick_evaluated_twice_asks_for_the_same_runs_and_the_next_tick_for_none(client, engine, tenant):
    start = _max_event_id(engine)
    post(client, [event(tenant.hub_id)])
    with dg.instance_for_test() as instance:
        first = _tick(sensors.webhook_queue_sensor, instance, start)
        again = _tick(sensors.webhook_queue_sensor, instance, start)
        after = _tick(sensors.webhook_queue_sensor, instance, int(first.cursor))
    # Same run keys: the daemon launches a run key once, so a repeated tick cannot launch twice.
    assert [r.run_key for r in first.run_requests] == [r.run_key for r in again.run_requests]
    assert isinstance(after, dg.SkipReason)


def test_the_queue_is_read_in_bounded_batches(client, engine, tenant, monkeypatch):
    monkeypatch.setattr(sensors, "MAX_EVENTS_PER_TICK", 3)
    start = _max_event_id(engine)
    post(client, [event(tenant.hub_id, objectId=n) for n in range(5)])
    with dg.instance_for_test() as instance:
        first = _tick(sensors.webhook_queue_sensor, instance, start)
        second = _tick(sensors.webhook_queue_sensor, instance, int(first.cursor))
    assert int(first.cursor) == start + 3
    assert int(second.cursor) == start + 5
    assert first.run_requests[0].run_key != second.run_requests[0].run_key


def test_workspaces_with_sync_off_and_unconnected_portals_launch_nothing(client, engine, tenant):
    with engine.begin() as conn:
        conn.execute(sa.insert(hubspot_sync_config).values(workspace_id=tenant.workspace_id, enabled=False))
    start = _max_event_id(engine)
    post(client, [event(tenant.hub_id), event(990_000_001)])
    with dg.instance_for_test() as instance:
        result = _tick(sensors.webhook_queue_sensor, instance, start)
    assert result.run_requests == []
    assert result.cursor == str(_max_event_id(engine))


def test_only_a_run_for_someones_edit_goes_first_in_the_run_queue(client, engine, tenant, other_tenant):
    # The sync's own writes echo back as INTEGRATION (an app) or API (a private app) changes: a first sync of
    # 2,000 leads sends about 15,000. Their runs ahead of every queued full sync held first syncs back.
    start = _max_event_id(engine)
    echoes = [event(tenant.hub_id, objectId=n, changeSource="INTEGRATION") for n in range(3)]
    post(client, [*echoes, event(tenant.hub_id, objectId=9, changeSource="API")])
    post(client, [event(other_tenant.hub_id, changeSource="INTEGRATION")])
    with dg.instance_for_test() as instance:
        echoed = _tick(sensors.webhook_queue_sensor, instance, start)
        assert [r.tags.get("dagster/priority") for r in echoed.run_requests] == [None, None]
        # One person's edit (or an event naming no source) among the echoes: that workspace's run goes first.
        middle = _max_event_id(engine)
        post(client, [event(tenant.hub_id, objectId=1, changeSource="INTEGRATION"), event(tenant.hub_id)])
        unnamed = event(other_tenant.hub_id)
        del unnamed["changeSource"]
        post(client, [unnamed])
        edited = _tick(sensors.webhook_queue_sensor, instance, middle)
    assert [r.tags.get("dagster/priority") for r in edited.run_requests] == ["1", "1"]


def _add_run(
    instance: dg.DagsterInstance,
    job: str,
    slug: str,
    status: dg.DagsterRunStatus,
    tags: dict[str, str] | None = None,
    **mode,
) -> None:
    add_run(instance, job, slug, status, run_config=contacts_run_config(**mode), tags=tags)


def test_a_workspace_whose_sync_waits_to_start_gets_no_second_run_and_one_that_started_does(
    client, engine, tenant, other_tenant
):
    # Under load each batch of events asked for a run per workspace; they queued behind the workspace's one
    # running run and all but the first found nothing left to do (the capacity benchmark's 760,252 echo
    # events). A run that has not started reads every pending event of its workspace when it does.
    start = _max_event_id(engine)
    echoes = [event(t.hub_id, changeSource="INTEGRATION") for t in (tenant, other_tenant)]  # the sync's own
    post(client, echoes)
    end = _max_event_id(engine)
    mine, other = _slug(engine, tenant), _slug(engine, other_tenant)
    waiting = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING]
    for job, status in [("contacts_sync_job", s) for s in waiting] + [("contacts_reconcile_job", waiting[0])]:
        with dg.instance_for_test() as instance:
            _add_run(instance, job, mine, status)
            # A dry run writes nothing and marks nothing processed: the other workspace still gets its run.
            _add_run(instance, "contacts_sync_job", other, dg.DagsterRunStatus.QUEUED, dry_run=True)
            _add_run(instance, "contacts_dry_run_job", other, dg.DagsterRunStatus.QUEUED, dry_run=True)
            result = _tick(sensors.webhook_queue_sensor, instance, start)
        assert [r.partition_key for r in result.run_requests] == [other], (job, status)
        assert result.cursor == str(end)  # the events are the waiting run's: the cursor moves past them
    # A started run may have read the queue before these events came, a finished one did: a new run each.
    for status in (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.CANCELED):
        with dg.instance_for_test() as instance:
            _add_run(instance, "contacts_sync_job", mine, status)
            result = _tick(sensors.webhook_queue_sensor, instance, start)
        assert sorted(r.partition_key for r in result.run_requests) == sorted([mine, other]), status


def test_someones_edit_waits_only_in_a_waiting_run_that_goes_first(client, engine, tenant):
    # A waiting echo or schedule run has no priority: it waits behind every queued full sync. An edit that
    # joined it would wait as long, so the edit gets its own run, which goes first; a waiting edit's run
    # (priority 1) takes the next edit.
    start = _max_event_id(engine)
    post(client, [event(tenant.hub_id)])  # CRM_UI: someone's edit in HubSpot
    mine = _slug(engine, tenant)
    with dg.instance_for_test() as instance:
        _add_run(instance, "contacts_sync_job", mine, dg.DagsterRunStatus.QUEUED)
        behind_echoes = _tick(sensors.webhook_queue_sensor, instance, start)
    [request] = behind_echoes.run_requests
    assert request.partition_key == mine and request.tags["dagster/priority"] == "1"
    with dg.instance_for_test() as instance:
        _add_run(
            instance, "contacts_sync_job", mine, dg.DagsterRunStatus.QUEUED, tags={"dagster/priority": "1"}
        )
        behind_an_edit = _tick(sensors.webhook_queue_sensor, instance, start)
    assert behind_an_edit.run_requests == []


def test_a_batch_committed_late_is_not_skipped(engine: sa.Engine, tenant: Tenant):
    # Regression guard for the cursor: ids are drawn under a lock held until commit, so a later delivery
    # waits for an earlier, slow one instead of committing higher ids first.
    start = _max_event_id(engine)
    slow = engine.connect()
    transaction = slow.begin()
    slow.execute(sa.select(sa.func.pg_advisory_xact_lock(sensors_lock())))
    slow.execute(sa.insert(webhook_events).values(_raw_row(tenant)))
    fast = threading.Thread(
        target=store_events, args=(engine, [event(tenant.hub_id)]), kwargs={"signature_version": "v3"}
    )
    fast.start()
    time.sleep(0.3)
    with dg.instance_for_test() as instance:
        while_slow = _tick(sensors.webhook_queue_sensor, instance, start)
        assert isinstance(while_slow, dg.SkipReason)  # the fast one is still waiting behind the slow one
        transaction.commit()
        slow.close()
        fast.join()
        result = _tick(sensors.webhook_queue_sensor, instance, start)
    assert result.cursor == str(_max_event_id(engine))
    with engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(
                    webhook_events.c.id > start, webhook_events.c.id <= int(result.cursor)
                )
            ).scalar_one()
            == 2
        )


def sensors_lock() -> int:
    from hubspot_pipeline.api.webhook_ingest import WEBHOOK_INSERT_LOCK

    return WEBHOOK_INSERT_LOCK


def _raw_row(tenant: Tenant) -> dict:
    payload = event(tenant.hub_id)
    return {
        "portal_id": tenant.hub_id,
        "workspace_id": tenant.workspace_id,
        "subscription_id": payload["subscriptionId"],
        "event_id": payload["eventId"],
        "object_id": payload["objectId"],
        "occurred_at": payload["occurredAt"],
        "subscription_type": payload["subscriptionType"],
        "payload": payload,
    }


def test_the_sync_request_sensor_launches_each_request_once(client: TestClient, engine, tenant: Tenant):
    start = _max_request_seq(engine)
    dry = client.post(url("/sync/contacts"), json={"dry_run": True}, headers=tenant.headers).json()
    full = client.post(url("/sync/contacts"), json={"full_resync": True}, headers=tenant.headers).json()
    with dg.instance_for_test() as instance:
        result = _tick(sensors.sync_request_sensor, instance, start)
        after = _tick(sensors.sync_request_sensor, instance, int(result.cursor))
    assert [r.run_key for r in result.run_requests] == [
        f"sync-request:{dry['id']}",
        f"sync-request:{full['id']}",
    ]
    assert {r.partition_key for r in result.run_requests} == {_slug(engine, tenant)}
    assert result.run_requests[0].tags[sensors.REQUEST_TAG] == dry["id"]
    # Each request runs as the job that says what it does, and its tags say it too.
    assert [r.job_name for r in result.run_requests] == ["contacts_dry_run_job", "contacts_reconcile_job"]
    assert result.run_requests[1].tags[tags.SYNC_KIND] == "full"
    assert result.run_requests[0].tags[tags.DRY_RUN] == "true"
    # A sync asked for through the API runs its whole job, the consistency checks included.
    assert all(r.asset_selection is None and r.asset_check_keys is None for r in result.run_requests)
    assert int(result.cursor) == _max_request_seq(engine)
    assert isinstance(after, dg.SkipReason)


@dg.asset
def _counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"pushed": 3, "pulled": 2, "note": "text is left out"})


def _run_of(instance: dg.DagsterInstance, run_tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    """A finished run carrying the tags the sensor gave its run request, as the daemon would launch it."""
    return dg.materialize([_counted], instance=instance, tags=run_tags)


def test_the_outcome_of_a_run_is_written_back_to_its_request(client: TestClient, engine, tenant: Tenant):
    start = _max_request_seq(engine)
    request = client.post(url("/sync/contacts"), json={}, headers=tenant.headers).json()
    with dg.instance_for_test() as instance:
        launched = _tick(sensors.sync_request_sensor, instance, start)
        # The run a daemon would launch for it, carrying the sensor's tags.
        run = _run_of(instance, launched.run_requests[0].tags)
        _tick(sensors.sync_request_sensor, instance, int(launched.cursor))
    status = client.get(url(f"/sync/requests/{request['id']}"), headers=tenant.headers).json()
    assert status["status"] == "succeeded"
    assert status["run_id"] == run.run_id
    assert status["result"] == {"run_status": "SUCCESS", "counts": {"_counted": {"pushed": 3, "pulled": 2}}}
    assert status["finished_at"] is not None
    recent = client.get(url("/sync/status"), headers=tenant.headers).json()["recent_runs"]
    assert recent[0]["id"] == request["id"] and recent[0]["status"] == "succeeded"


def test_requests_whose_runs_never_came_neither_hide_new_outcomes_nor_stay_queued(
    client: TestClient, engine, tenant: Tenant
):
    # Regression: outcomes were looked up for the 50 oldest unfinished requests only, so a pile of requests
    # whose runs were never launched (refused, deleted) kept every newer request "queued" for ever.
    start = _max_request_seq(engine)
    orphans = [
        client.post(url("/sync/contacts"), json={}, headers=tenant.headers).json()["id"]
        for _ in range(sensors.MAX_REQUESTS_PER_TICK + 5)
    ]
    request = client.post(url("/sync/contacts"), json={}, headers=tenant.headers).json()
    with dg.instance_for_test() as instance:
        cursor, handed = start, []
        while isinstance(result := _tick(sensors.sync_request_sensor, instance, cursor), dg.SensorResult):
            handed += result.run_requests
            cursor = int(result.cursor)
        assert len(handed) == len(orphans) + 1
        _run_of(instance, handed[-1].tags)  # only the newest request gets its run
        _tick(sensors.sync_request_sensor, instance, cursor)
        status = client.get(url(f"/sync/requests/{request['id']}"), headers=tenant.headers).json()
        assert status["status"] == "succeeded"
        with engine.begin() as conn:  # the orphans were handed over long ago
            conn.execute(
                sa.update(sync_requests)
                .where(sync_requests.c.id.in_(orphans))
                .values(requested_at=sa.func.now() - sensors.ORPHANED_AFTER * 2)
            )
        for _ in range(3):
            _tick(sensors.sync_request_sensor, instance, cursor)
    orphan = client.get(url(f"/sync/requests/{orphans[0]}"), headers=tenant.headers).json()
    assert orphan["status"] == "failed"
    assert "no Dagster run was launched" in str(orphan)
