"""ColdCopy's email activity in HubSpot: each email event logged once, as the object HubSpot users look for.

    core/      pure rules: which HubSpot object an event becomes, its properties at a content level, the
               deterministic ids and markers, the event templates, what makes an event unusable, the plan
    store/     what the activity log reads and records in PostgreSQL: pending events, in-flight rows, the
               log, the retry index, the workspace's choices, the stored event templates
    engine.py  one batch of a workspace (a day, a date range, or everything pending): recover, plan, push,
               record; recovery.py and push.py hold the HubSpot side, templates.py the app's event templates

Exactly once: timeline events carry the email event's id as HubSpot's idempotency key (a repeat is a 409 or
an overwrite, never a second event); emails and notes have no such key, so an `in_flight` log row is committed
before each create, and a later run finds what a crash left behind through the contact's associations and
the Message-ID (or the note's marker) in the object, by direct reads (search lags). Never imports Dagster.
"""
