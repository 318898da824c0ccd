"""Finding phrases of a vocabulary (`phrases.py`) in a reply: text normalised once, the earliest match wins."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

Phrases = dict[str, tuple[str, ...]]

_GREETING = re.compile(
    r"^(hi|hello|hey|dear|good (morning|afternoon)|hallo|guten tag|liebe[r]?|sehr geehrte[r]?|bonjour|salut"
    r"|hola|buenos días|olá|oi|hoi|beste|goedemorgen|ciao|buongiorno|gentile)\b[^\n]{0,60}\n"
    r"|^[^\s,\n]{1,30},\n"
)
_WHITESPACE = re.compile(r"\s+")


def without_greeting(text: str) -> str:
    """The text without its opening "Hi Alex," line, so `^` in a pattern is the first word that matters."""
    return _GREETING.sub("", text.lstrip(), count=1)


def normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text.lower().replace("\u2019", "'").replace("\u2018", "'")).strip()


@dataclass(frozen=True)
class PhraseMatch:
    language: str
    start: int
    phrase: str


class PhraseSet:
    """One category's patterns, compiled once per language on first use: every run process of the main
    location imports the vocabulary (`defs/engagement`), and most of them (a contact sync) never classify a
    reply, so they do not pay for compiling it (tens of ms)."""

    def __init__(self, phrases: Phrases) -> None:
        self._phrases = phrases

    @cached_property
    def _patterns(self) -> dict[str, re.Pattern[str]]:
        # Two threads compiling at once both get the same patterns; one of them is kept.
        return {lang: re.compile("|".join(f"(?:{p})" for p in pats)) for lang, pats in self._phrases.items()}

    def first(self, normalised_text: str) -> PhraseMatch | None:
        """The earliest match in any language (the lead's first words carry the decision)."""
        found: PhraseMatch | None = None
        for language, pattern in self._patterns.items():
            match = pattern.search(normalised_text)
            if match and (found is None or match.start() < found.start):
                found = PhraseMatch(language, match.start(), match.group(0).strip()[:80])
        return found
