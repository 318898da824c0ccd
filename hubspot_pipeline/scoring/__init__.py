"""Scoring of ColdCopy's engagement: pure functions, no Dagster, no I/O, no network.

`intent.classify_reply` decides what a reply to a cold email means (interested, not interested, out of
office, unsubscribe request, referral, neutral), with a confidence and the rule that decided.
"""
