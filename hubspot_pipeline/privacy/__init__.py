"""GDPR erasure and retention of personal data. No Dagster here: `defs/privacy/` is the glue.

- `keys.py`: the keyed hashes an erasure keeps instead of the email and the lead ids.
- `store.py`: finding a person's rows and deleting every local copy, in one transaction.
- `erasure.py`: an erasure asked by ColdCopy (API, CLI): HubSpot's GDPR delete, then the local purge.
- `hubspot_deletions.py`: HubSpot's `contact.privacyDeletion` (with its `contact.deletion`) erasing the lead.
- `retention.py`: purging what is past its retention age, in small batches.
"""
