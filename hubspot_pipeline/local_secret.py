"""Secrets a local install generates for itself when their setting is unset: created once under the data
folder, readable by the owner only (mode 0600), so `make demo` and `make dev` need no configuration. A
deployment sets the settings instead (docs/deployment.md), the same on every host."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path


def _random() -> bytes:
    return secrets.token_urlsafe(48).encode()


def local_secret(data_dir: Path, name: str, make: Callable[[], bytes] = _random) -> bytes:
    """The secret in `<data_dir>/<name>`, made by `make` on first use (two processes racing: one writes it,
    O_EXCL refuses the other, which reads it)."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        try:
            os.write(descriptor, make())
        finally:
            os.close(descriptor)
    return path.read_bytes().strip()
