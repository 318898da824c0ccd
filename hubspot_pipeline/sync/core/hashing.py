"""Stable row hashes of canonical values: a fast first look at "did this lead change since we agreed?".

The hash only filters: a lead whose hash differs from the stored one is compared field by field with the
agreed values, so a hash that changed for no reason (a new mapping, a library upgrade) costs a comparison,
never a wrong write. The field names are part of the hash, so adding or removing a mapping changes it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

HASH_KEY = "hubspotpipeline1"  # 16 bytes, pandas' SipHash key


def _signature(columns: Sequence[str]) -> str:
    return hashlib.blake2b("\x1f".join(columns).encode(), digest_size=8).hexdigest()


def hash_values(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One unsigned 64-bit hash per row over `columns` (string values, "" for empty)."""
    ordered = sorted(columns)
    values = frame[ordered].copy()
    values["\x00fields"] = _signature(ordered)
    return pd.util.hash_pandas_object(values, index=False, hash_key=HASH_KEY).to_numpy(dtype=np.uint64)


def hash_frame(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One 16-hex-digit hash per row over `columns` (string values, "" for empty), index kept. Stored
    as text; `('x' || sync_hash)::bit(64)::bigint` in SQL is `hash_values(...).view(np.int64)`."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    # Big-endian bytes as hex, cut every 16 digits: what "%016x" gives each hash, without a format call each.
    digits = hash_values(frame, columns).astype(">u8").tobytes().hex()
    hashes = [digits[at : at + 16] for at in range(0, len(digits), 16)]
    return pd.Series(hashes, index=frame.index, dtype=object)


def hash_agreed(agreed: Sequence[Mapping[str, str] | None], columns: Sequence[str]) -> list[str | None]:
    """The hash `hash_frame` gives a lead whose canonical values equal each agreed dict (None stays None)."""
    present = [i for i, row in enumerate(agreed) if row is not None]
    result: list[str | None] = [None] * len(agreed)
    if not present:
        return result
    frame = pd.DataFrame(
        {c: [str((agreed[i] or {}).get(c, "")) for i in present] for c in columns}, dtype=object
    )
    for position, value in zip(present, hash_frame(frame, columns).tolist(), strict=True):
        result[position] = value
    return result
