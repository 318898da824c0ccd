"""Scoring of ColdCopy's engagement. The modules here are pure (no Dagster, no I/O, no network); what the
scoring records in PostgreSQL (intents on stored replies, engagement events, dbt builds, publication) is in
`store/`, and `cli.py` runs it from a shell.

`intent.classify_reply` decides what a reply to a cold email means (interested, not interested, out of
office, unsubscribe request, referral, neutral), with a confidence and the rule that decided.
"""
