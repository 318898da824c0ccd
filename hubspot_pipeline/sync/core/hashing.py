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
    """One unsigned 64-bit hash per row over `columns` (string values, "" for empty).

    The value is pandas' `hash_pandas_object(frame[sorted(columns)] plus a last column holding the fields'
    signature, index=False, hash_key=HASH_KEY)`, the hash every stored `sync_hash` holds, computed column by
    column: each column's values hashed as they are (`categorize=False`: factorizing first, pandas' default,
    gives the same hashes and took twice as long over mostly distinct values), the signature hashed once
    for all rows, and the columns combined as pandas combines them. Canonical values are text: the hashes of
    anything else (None, numbers) are pandas' too, as the test pins."""
    ordered = sorted(columns)
    signature = pd.util.hash_array(np.array([_signature(ordered)], dtype=object), hash_key=HASH_KEY)
    hashes = [_hash_column(frame[c].to_numpy()) for c in ordered]
    hashes.append(np.full(len(frame), signature[0], dtype=np.uint64))
    return _combine(hashes)


def _hash_column(values: np.ndarray) -> np.ndarray:
    hashes = pd.util.hash_array(values, hash_key=HASH_KEY, categorize=False)
    if values.dtype == object:  # pandas factorizes only these (categorize=True): their nulls hash as u8max
        missing = pd.isna(values)
        if missing.any():
            hashes[missing] = np.iinfo(np.uint64).max
    return hashes


def _combine(hashes: list[np.ndarray]) -> np.ndarray:
    """Column hashes combined into one per row, as pandas' `combine_hash_arrays` (private) does."""
    out = np.full(len(hashes[0]), 0x345678, dtype=np.uint64)
    multiplier = np.uint64(1000003)
    for i, column in enumerate(hashes):
        inverse = len(hashes) - i
        out ^= column
        out *= multiplier
        multiplier += np.uint64(82520 + inverse + inverse)
    out += np.uint64(97531)
    return out


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
