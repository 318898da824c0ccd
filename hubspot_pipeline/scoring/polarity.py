"""Polarity of an English reply from VADER (vaderSentiment 3.3.2), a lexicon and rule model whose lexicon
ships inside the package: loaded from disk once per process, no download, no network."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Politeness says nothing about intent ("Thanks anyway" is a no, "Sorry for the delay, yes" a yes), but VADER
# scores it: such formulae are removed before scoring.
_POLITENESS = re.compile(
    r"\b(many |so much |a lot )?(thanks|thank you|thx|cheers|appreciate( it| that)?|much appreciated|sorry|apologies"
    r"|(best|kind|warm|warmest) regards|best wishes|(best of |good )luck|have a (great|good|nice|lovely) (day|week"
    r"|weekend))\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def compound_polarity(text: str) -> float:
    """VADER's compound score in [-1, 1] (English only: other languages score near 0, which means nothing)."""
    if not text.strip():
        return 0.0
    return float(_analyzer().polarity_scores(_POLITENESS.sub(" ", text))["compound"])
