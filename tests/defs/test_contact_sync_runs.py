"""Runs of the contact sync assets for a workspace partition, against PostgreSQL and the sandbox over HTTP:
a dry run then a real one (metadata, checks and tags of each), a partial selection and a key no workspace
has (each refused with its message), checks kept per workspace (one failing, one passing), and which runs
check (the schedule's) and which do not (the outbox and webhook sensors')."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import dagster as dg
import sqlalchemy as sa
from dagster_runs import add_run

from hubspot_pipeline.db.tables import hubspot_sync_status, leads, workspaces
from hubspot_pipeline.defs.contacts import jobs, schedules
from hubspot_pipeline.defs.contacts.assets import contacts_sync
from hubspot_pipeline.defs.contacts.resources import contacts_run_config
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.sync.store.workspaces import some_slugs

from .conftest import add_leads, connect

QUEUED = dg.DagsterRunStatus.QUEUED

CHECKS = {"sync_error_rate", "stuck_retry_rows", "cursor_lag", "sample_pairs_match"}
CHECK_KEYS = [dg.AssetCheckKey(dg.AssetKey(["contacts", "sync_state"]), name) for name in sorted(CHECKS)]
SAMPLE_READS = "POST /crm/v3/objects/contacts/batch/read"  # sample_pairs_match reads its pairs' contacts


def _metadata(result: dg.ExecuteInProcessResult, stage: str) -> dict:
    [event] = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["contacts", stage])
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    return " ".join(
        str(event.event_specific_data)
        for event in result.all_events
        if event.is_failure or "FAILURE" in event.event_type_value
    )


def test_a_dry_run_writes_nothing_then_a_run_syncs_and_tags_itself(
    contact_defs, engine, workspace_id, slug, hubspot_sandbox
):
    add_leads(engine, workspace_id, 12)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        dry = contact_defs.resolve_job_def("contacts_dry_run_job").execute_in_process(
            partition_key=slug, instance=instance
        )
        assert dry.success
        diffs = _metadata(dry, "hashed_diffs")
        assert diffs["push_new"] == 12 and diffs["dry_run"] is True
        materialized = {e.asset_key.path[-1] for e in dry.get_asset_materialization_events()}
        assert materialized == {"field_mappings", "leads", "hubspot_contacts", "hashed_diffs"}
        assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/upsert") == 0

        full = contact_defs.resolve_job_def("contacts_reconcile_job").execute_in_process(
            partition_key=slug, instance=instance
        )
        assert full.success
        assert _metadata(full, "sync_state")["synced"] == 12
        assert _metadata(full, "pushed_contacts")["written"] == 12
        assert {e.check_name: e.passed for e in full.get_asset_check_evaluations()} == dict.fromkeys(
            CHECKS, True
        )
        run_tags = instance.get_run_by_id(full.run_id).tags
        assert run_tags[tags.WORKSPACE_ID] == str(workspace_id)
        assert run_tags[tags.WORKSPACE_NAME] == f"Test {slug}"
        assert run_tags[tags.SYNC_KIND] == "full" and tags.DRY_RUN not in run_tags
        assert run_tags[tags.TRIGGER] == "code"
        assert instance.get_run_by_id(dry.run_id).tags[tags.DRY_RUN] == "true"

        # The dry-run job runs the read stages only: launched with dry_run false, it still writes nothing.
        add_leads(engine, workspace_id, 2)
        upserts = hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/upsert")
        edited = contact_defs.resolve_job_def("contacts_dry_run_job").execute_in_process(
            partition_key=slug, instance=instance, run_config=contacts_run_config(dry_run=False)
        )
        assert _metadata(edited, "hashed_diffs")["push_new"] == 2
        assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/upsert") == upserts
        assert instance.get_run_by_id(edited.run_id).tags[tags.DRY_RUN] == "true"


def test_a_webhook_run_with_no_company_work_skips_the_company_stage_and_the_schedules_run_polls(
    contact_defs, engine, workspace_id, slug
):
    [email] = add_leads(engine, workspace_id, 1)
    job = contact_defs.resolve_job_def("contacts_sync_job")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        assert job.execute_in_process(partition_key=slug, instance=instance).success
        for trigger, skipped in [("webhooks", True), ("outbox", True), ("schedule", False)]:
            with engine.begin() as conn:  # contact work, no company work: a name, not the domain
                conn.execute(sa.update(leads).where(leads.c.email == email).values(first_name=trigger))
            result = job.execute_in_process(
                partition_key=slug, instance=instance, tags={tags.TRIGGER: trigger}
            )
            companies = _metadata(result, "hubspot_companies")
            assert (companies["skipped"], companies["api_calls"] == 0) == (skipped, skipped), trigger


def test_a_stage_selected_without_the_stages_it_reads_fails_with_its_message(
    resources, engine, workspace_id, slug, hubspot_sandbox
):
    add_leads(engine, workspace_id, 2)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        result = dg.materialize(
            [contacts_sync],
            selection=[dg.AssetKey(["contacts", "pushed_contacts"]), dg.AssetKey(["contacts", "sync_state"])],
            partition_key=slug,
            instance=instance,
            resources=resources,
            raise_on_error=False,
        )
    assert not result.success
    message = _failure_text(result)
    assert "contacts/pushed_contacts needs contacts/field_mappings" in message
    assert "never reuse another run's" in message
    assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/upsert") == 0


def test_a_key_no_workspace_has_is_refused_naming_the_workspaces(contact_defs, engine):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", ["added-by-hand"])
        result = contact_defs.resolve_job_def("contacts_sync_job").execute_in_process(
            partition_key="added-by-hand", instance=instance, raise_on_error=False
        )
    assert not result.success
    message = _failure_text(result)
    with engine.connect() as conn:
        slugs, _ = some_slugs(conn, 3)
    assert "no workspace has the slug 'added-by-hand'" in message
    assert all(s in message for s in slugs)
    assert "workspace_partitions_sensor" in message


def _stuck_pair(engine: sa.Engine, workspace_id: uuid.UUID) -> None:
    # A lead HubSpot refuses (no top-level domain) that failed 4 runs already: the run fails it a 5th time.
    # It must exist: the pair of a lead deleted outright is ended, not retried (#9.5).
    with engine.begin() as conn:
        lead_id = conn.execute(
            sa.insert(leads).values(workspace_id=workspace_id, email="stuck@example").returning(leads.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(hubspot_sync_status).values(
                workspace_id=workspace_id,
                entity_type="contact",
                entity_id=lead_id,
                status="error",
                error_message="HubSpot rejected the request: Property values were not valid",
                attempts=4,
            )
        )


def test_checks_are_kept_per_workspace_and_a_failing_one_is_not_hidden_by_a_passing_one(
    contact_defs, engine, workspace_id, slug
):
    other_slug = f"ws-{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        other_id = conn.execute(
            sa.insert(workspaces).values(name="Other", slug=other_slug).returning(workspaces.c.id)
        ).scalar_one()
    add_leads(engine, workspace_id, 3)
    add_leads(engine, other_id, 3)
    _stuck_pair(engine, workspace_id)
    job = contact_defs.resolve_job_def("contacts_sync_job")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug, other_slug])
        stuck = job.execute_in_process(partition_key=slug, instance=instance)
        healthy = job.execute_in_process(partition_key=other_slug, instance=instance)  # runs last
        assert stuck.success and healthy.success
        check = dg.AssetCheckKey(dg.AssetKey(["contacts", "sync_state"]), "stuck_retry_rows")
        latest = {}
        for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=10):
            evaluation = record.event.dagster_event.asset_check_evaluation_data
            latest.setdefault(evaluation.partition, evaluation)
    assert latest[slug].passed is False and latest[slug].metadata["stuck"].value == 1
    assert latest[other_slug].passed is True
    assert latest[slug].severity == dg.AssetCheckSeverity.WARN


def _as_launched(job: dg.JobDefinition, request: dg.RunRequest) -> dg.JobDefinition:
    """The job a run launched for `request` executes: Dagster's run worker subsets it to the run's asset
    and check selections (JobDefinition.get_subset), as here; a request without them runs the whole job."""
    if request.asset_selection is None and request.asset_check_keys is None:
        return job
    return job.get_subset(
        asset_selection=set(request.asset_selection or ()),
        asset_check_selection=None if request.asset_check_keys is None else set(request.asset_check_keys),
    )


def _checks_of(instance: dg.DagsterInstance, run_id: str) -> list:
    """The check executions a run recorded, planned ones included (a check planned and not run shows in the
    UI as not passed)."""
    return [
        record
        for check in CHECK_KEYS
        for record in instance.event_log_storage.get_asset_check_execution_history(check, limit=20)
        if record.run_id == run_id
    ]


def test_an_outbox_or_webhook_run_checks_nothing_and_reads_no_sample_and_the_schedules_run_checks(
    contact_defs, resources, engine, workspace_id, slug, hubspot_sandbox
):
    # The edit-to-lead path: a workspace runs one run at a time, so the checks of one change's run (four
    # queries and a sample read from HubSpot, 0.5-1.4 s) delayed the next change's run. The schedule checks.
    connect(engine, workspace_id)
    [email, *_] = add_leads(engine, workspace_id, 3)
    job = contact_defs.resolve_job_def("contacts_sync_job")
    settings = {"sync_settings": resources["sync_settings"]}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        assert job.execute_in_process(partition_key=slug, instance=instance).success  # pairs to sample
        with engine.begin() as conn:
            conn.execute(sa.update(leads).where(leads.c.email == email).values(first_name="Edited"))
        outbox = contact_defs.resolve_sensor_def("lead_outbox_sensor")(
            dg.build_sensor_context(instance=instance, cursor="0", resources=settings)
        )
        [from_outbox] = [r for r in outbox.run_requests if r.partition_key == slug]
        from_webhooks = dg.RunRequest(
            partition_key=slug, tags={tags.TRIGGER: "webhooks"}, **jobs.run_selection("webhooks")
        )
        for request in (from_outbox, from_webhooks):
            reads = hubspot_sandbox.admin.calls(SAMPLE_READS)
            run = _as_launched(job, request).execute_in_process(
                partition_key=slug, instance=instance, run_config=request.run_config, tags=request.tags
            )
            assert run.success
            assert {e.asset_key.path[-1] for e in run.get_asset_materialization_events()} >= {"sync_state"}
            assert list(run.get_asset_check_evaluations()) == []
            assert _checks_of(instance, run.run_id) == []  # not planned, so not shown as failed
            assert hubspot_sandbox.admin.calls(SAMPLE_READS) == reads

        context = dg.build_schedule_context(
            instance=instance,
            resources=settings,
            scheduled_execution_time=datetime(2026, 11, 30, 1, 45, tzinfo=UTC),
        )
        [scheduled] = [r for r in schedules.contacts_sync_schedule(context) if r.partition_key == slug]
        # A change's run goes first in the run queue; the schedule's waits its turn.
        assert from_outbox.tags["dagster/priority"] == "1" and "dagster/priority" not in scheduled.tags
        reads = hubspot_sandbox.admin.calls(SAMPLE_READS)
        run = _as_launched(job, scheduled).execute_in_process(
            partition_key=slug, instance=instance, run_config=scheduled.run_config, tags=scheduled.tags
        )
        assert {e.check_name: e.passed for e in run.get_asset_check_evaluations()} == dict.fromkeys(
            CHECKS, True
        )
        assert len(_checks_of(instance, run.run_id)) == len(CHECKS)
        assert hubspot_sandbox.admin.calls(SAMPLE_READS) == reads + 1


def test_the_outbox_sensor_and_the_schedules_leave_a_workspace_to_a_waiting_run_that_does_their_work(
    contact_defs, resources, engine, workspace_id, slug
):
    # A waiting run reads every pending change when it starts, so while the run queue is behind no trigger
    # piles up runs that would find nothing left. Which waiting run covers which request: a waiting sync
    # with priority covers an outbox row (an edit); the 15-minute schedule's run checks, so only a waiting
    # run that checks covers it; the nightly full resync only a waiting full resync.
    connect(engine, workspace_id)
    add_leads(engine, workspace_id, 2)  # outbox rows
    settings = {"sync_settings": resources["sync_settings"]}
    at = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)

    def asked(instance: dg.DagsterInstance) -> list[str]:
        outbox = contact_defs.resolve_sensor_def("lead_outbox_sensor")(
            dg.build_sensor_context(instance=instance, cursor="0", resources=settings)
        )
        context = dg.build_schedule_context(
            instance=instance, resources=settings, scheduled_execution_time=at
        )
        made = {
            "outbox": outbox.run_requests,
            "schedule": schedules.contacts_sync_schedule(context),
            "nightly": schedules.contacts_reconcile_schedule(context),
        }
        # A schedule with nothing to ask for says why (dg.SkipReason).
        ran = {name: requests for name, requests in made.items() if isinstance(requests, list)}
        return sorted(
            name for name, requests in ran.items() if any(r.partition_key == slug for r in requests)
        )

    # A lead edit's run goes first in the run queue, so only a waiting run that goes first takes it.
    first = {"dagster/priority": "1"}
    waiting_runs = [
        ("nothing", None, None, {}, ["nightly", "outbox", "schedule"]),
        ("an outbox run", "contacts_sync_job", frozenset(), first, ["nightly", "schedule"]),
        ("an echo run", "contacts_sync_job", frozenset(), {}, ["nightly", "outbox", "schedule"]),
        ("a schedule run", "contacts_sync_job", None, {}, ["nightly", "outbox"]),
        ("a full resync", "contacts_reconcile_job", None, {}, ["outbox"]),
    ]
    for what, job, checks, priority, expected in waiting_runs:
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("workspace", [slug])
            if job is not None:
                full = job == "contacts_reconcile_job"
                config = contacts_run_config(full_resync=full)
                add_run(
                    instance,
                    job,
                    slug,
                    QUEUED,
                    run_config=config,
                    asset_check_selection=checks,
                    tags=priority,
                )
            assert asked(instance) == expected, what


def test_the_dry_run_job_and_the_config_say_the_same_mode():
    from hubspot_pipeline.defs.contacts.jobs import contacts_dry_run_job, contacts_reconcile_job, job_for

    assert job_for(dry_run=True, full_resync=True) == contacts_dry_run_job.name
    assert job_for(dry_run=False, full_resync=True) == contacts_reconcile_job.name
    assert contacts_run_config(full_resync=True)["resources"]["contact_sync_run"]["config"]["full_resync"]


def test_re_executing_a_failed_run_from_failure_starts_again_from_the_first_stage(
    resources, engine, workspace_id, slug, hubspot_sandbox
):
    # The sync is one step: "from failure" re-runs it whole, reading both sides again in the new run,
    # instead of loading the failed run's stage results (which were never stored).
    from . import reexecutable

    add_leads(engine, workspace_id, 4)
    reexecutable.RESOURCES.clear()
    reexecutable.RESOURCES.update(resources)
    refuse = sa.text(
        "CREATE FUNCTION refuse_pairs() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'recording refused by the test'; END $$; "
        "CREATE TRIGGER refuse_pairs BEFORE INSERT ON hubspot_sync_status FOR EACH ROW "
        f"WHEN (NEW.workspace_id = '{workspace_id}') EXECUTE FUNCTION refuse_pairs()"
    )
    with engine.begin() as conn:
        conn.execute(refuse)
    job = dg.reconstructable(reexecutable.contacts_sync_job)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        try:
            with dg.execute_job(job, instance, tags={"dagster/partition": slug}) as failed:
                assert not failed.success
                assert "recording refused by the test" in _failure_text(failed)
                done = {e.asset_key.path[-1] for e in failed.get_asset_materialization_events()}
                # The new leads' pairs are recorded page by page as they are pushed (sync/paged_push.py):
                # the refused page stops the push, so pushed_contacts is not materialized either.
                assert done == {"field_mappings", "leads", "hubspot_contacts", "hashed_diffs"}
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text("DROP TRIGGER refuse_pairs ON hubspot_sync_status"))
                conn.execute(sa.text("DROP FUNCTION refuse_pairs()"))
        options = dg.ReexecutionOptions.from_failure(failed.run_id, instance)
        # The UI re-executes with the parent run's tags (its partition among them); execute_job needs them given.
        with dg.execute_job(
            job, instance, reexecution_options=options, tags={"dagster/partition": slug}
        ) as again:
            assert again.success
            stages = [e.asset_key.path[-1] for e in again.get_asset_materialization_events()]
            assert stages[0] == "field_mappings" and "sync_state" in stages
            shown = {
                e.asset_key.path[-1]: e.materialization for e in again.get_asset_materialization_events()
            }
            synced = shown["sync_state"].metadata["synced"].value
    # The contacts pushed by the failed run are found again by email: upserted, not duplicated.
    assert synced == 4
