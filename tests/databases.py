"""Database URLs for tests that need a database of their own on the test server."""

from __future__ import annotations


def on_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server, with the same options."""
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
