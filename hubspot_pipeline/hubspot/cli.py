"""`hubspot-pipeline rotate-keys`: re-encrypt every stored HubSpot token with the newest key.

Rotation: prepend a new key to TOKEN_ENCRYPTION_KEYS (keep the old ones after it), deploy, run this command,
then remove the old keys. Until the command has run, tokens encrypted with an old key still decrypt.
"""

from __future__ import annotations

import click


@click.command("rotate-keys")
def rotate_keys() -> None:
    """Re-encrypt every stored HubSpot token with the newest TOKEN_ENCRYPTION_KEYS key."""
    from hubspot_pipeline.db import audit
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.hubspot.token_store import TokenStore
    from hubspot_pipeline.hubspot.tokens import TokenCipher

    engine = get_engine()
    count, unreadable = TokenStore(engine, TokenCipher.from_settings()).rotate_all()
    with engine.begin() as conn:
        audit.record(
            conn,
            workspace_id=None,
            actor="cli",
            action="tokens.rotate_keys",
            target="hubspot_integrations",
            details={"rotated": count, "unreadable": len(unreadable)},
        )
    click.echo(f"Re-encrypted the tokens of {count} HubSpot integration(s) with the newest key.")
    if unreadable:
        click.echo(
            f"{len(unreadable)} integration(s) have tokens no configured key can read (workspaces: "
            f"{', '.join(unreadable)}). Put the key that encrypted them back into TOKEN_ENCRYPTION_KEYS and "
            "run this again, or reconnect HubSpot for those workspaces.",
            err=True,
        )
        raise SystemExit(1)
