"""Workflow triggers: what a workspace wants to happen in HubSpot when a lead engages (enrol the contact in a
workflow, set contact properties, call the workspace's own URL), each (trigger, event) at most once.

    core/     pure rules: the trigger model (pydantic), conditions, templates, threshold crossings, cooldowns,
              event matching, retry backoff, which addresses a custom action may reach
    store/    PostgreSQL: triggers, executions (unique per trigger and event), per-lead trigger state
    custom_action.py   the signed POST to a workspace's URL (HMAC-SHA256, idempotency key, retries, timeout)
    engine.py          evaluate events against triggers and run the executions due (API and Dagster share it)

Knows nothing of Dagster (defs/workflows/ is its glue) and nothing of FastAPI (api/routes/workflows.py).
"""
