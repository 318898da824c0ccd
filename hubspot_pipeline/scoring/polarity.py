"""Polarity of an English reply from VADER (vaderSentiment 3.3.2), a lexicon and rule model whose lexicon
ships inside the package: loaded from disk once per process, no download, no network."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_polarity(text: str) -> float:
    """VADER's compound score in [-1, 1] (English only: other languages score near 0, which means nothing)."""
    if not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(text)["compound"])
