"""What a reply to a cold email means: its intent, how sure we are, and which rule decided.

`classify_reply` is pure (no I/O, no network, no model download): call it when a reply is stored. The rules,
first match wins (docs/architecture.md, "Reply intent"):

1. ColdCopy's own judgement: an intent in the reply event's metadata, then a lead status a user set to
   `interested` / `not_interested`. Confidence 1.0.
2. Automatic replies by their headers (`Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`,
   `Precedence: auto_reply|bulk|junk`, `X-Auto-Response-Suppress`), then by their subject, in seven languages.
3. The lead's own words are read: the text body, or the HTML body made text; the quoted original (our own
   cold email), the signature and disclaimers are cut away (`reply_text.py`).
4. Unsubscribe requests by phrase (before any polarity: "not interested, remove me" is an unsubscribe).
5. Automatic replies by their body ("I am out of the office until ...").
6. Referrals: "not the right person" decides; "talk to X" decides when it names another address (in the
   text or in Cc) or is one of the strong forms, unless the lead also said yes.
7. Polarity: the earliest intent phrase of the lead (interested, not interested, or a neutral "I'll get back
   to you"), with VADER's agreement raising or lowering the confidence; without a phrase, VADER alone on
   English text. VADER is English-only: other languages are decided by phrases at a confidence of at most 0.6.
8. Otherwise neutral.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import getaddresses
from enum import StrEnum

from hubspot_pipeline.scoring import auto_reply, phrase_match, phrases, polarity, reply_text
from hubspot_pipeline.scoring.language import ENGLISH, UNKNOWN, guess_language
from hubspot_pipeline.scoring.phrase_match import PhraseMatch


class Intent(StrEnum):
    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    OUT_OF_OFFICE = "out_of_office"
    UNSUBSCRIBE_REQUEST = "unsubscribe_request"
    REFERRAL = "referral"
    NEUTRAL = "neutral"


class Reason(StrEnum):
    """Which rule decided: a fixed vocabulary, safe to store and to group by."""

    COLDCOPY_EVENT_INTENT = "coldcopy_event_intent"
    COLDCOPY_LEAD_STATUS = "coldcopy_lead_status"
    AUTO_REPLY_HEADER = "auto_reply_header"
    AUTO_REPLY_SUBJECT = "auto_reply_subject"
    UNSUBSCRIBE_PHRASE = "unsubscribe_phrase"
    AUTO_REPLY_BODY = "auto_reply_body"
    REFERRAL_PHRASE = "referral_phrase"
    REFERRAL_PHRASE_AND_ADDRESS = "referral_phrase_and_address"
    REFERRAL_ADDRESS = "referral_address"
    INTENT_PHRASE = "intent_phrase"
    LEXICON_POLARITY = "lexicon_polarity"
    NO_SIGNAL = "no_signal"
    EMPTY_REPLY = "empty_reply"


@dataclass(frozen=True, slots=True)
class IntentDecision:
    intent: Intent
    confidence: float  # 0..1, see docs/architecture.md for the scale
    reason: Reason
    language: str  # ISO 639-1 guess of the lead's own words ("und" when unknown)
    evidence: str = ""  # the header, phrase or score that decided, at most 80 characters


# A user's status on the lead in ColdCopy that is a judgement of the reply.
_LEAD_STATUS_INTENTS = {"interested": Intent.INTERESTED, "not_interested": Intent.NOT_INTERESTED}
EVENT_METADATA_INTENT_KEY = "intent"
# VADER compound scores beyond which the lexicon alone decides an English reply with no intent phrase.
POSITIVE_POLARITY = 0.5
NEGATIVE_POLARITY = -0.3
# Every confidence of a decision on a language VADER cannot read stays at or below this.
NON_ENGLISH_MAX_CONFIDENCE = 0.6
_EMAIL = re.compile(r"[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,8}\.[a-z]{2,24}")


def _coldcopy_intent(value: object) -> Intent | None:
    if not isinstance(value, str):
        return None
    try:
        return Intent(value.strip().lower().replace("-", "_").replace(" ", "_"))
    except ValueError:
        return None  # not one of ours: ColdCopy said nothing we can use


def _addresses(header_value: str) -> set[str]:
    return {address.lower() for _, address in getaddresses([header_value]) if "@" in address}


def _other_addresses(own_words: str, headers: dict[str, str]) -> set[str]:
    """Addresses in the lead's words or in Cc that are neither the lead's (From) nor ours (To)."""
    known = _addresses(headers.get("from", "")) | _addresses(headers.get("to", ""))
    mentioned = set(_EMAIL.findall(own_words.lower())) | _addresses(headers.get("cc", ""))
    return mentioned - known


def _language(match: PhraseMatch, guessed: str) -> str:
    """A phrase of another language than English knows the language better than the function words do."""
    return guessed if match.language == ENGLISH else match.language


def _strip_reply_prefixes(subject: str) -> str:
    return re.sub(
        r"^\s*((re|aw|antw|sv|r|res|rif|wg|fw|fwd|tr)(\s*\[\d{1,3}\])?\s*:\s*){1,10}", "", subject, flags=re.I
    )


def _decision(
    intent: Intent, confidence: float, reason: Reason, language: str, evidence: str
) -> IntentDecision:
    if language != ENGLISH and reason in (Reason.INTENT_PHRASE, Reason.NO_SIGNAL, Reason.EMPTY_REPLY):
        confidence = min(confidence, NON_ENGLISH_MAX_CONFIDENCE)
    return IntentDecision(intent, round(max(0.0, min(1.0, confidence)), 3), reason, language, evidence[:80])


def classify_reply(
    *,
    subject: str | None = None,
    text: str | None = None,
    html: str | None = None,
    headers: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
    lead_status: str | None = None,
    event_metadata: Mapping[str, object] | None = None,
) -> IntentDecision:
    """Decide a reply's intent.

    `headers` as received (any name case; a list value is a repeated header). `lead_status` is the lead's
    status in ColdCopy when a user set it; `event_metadata` the `replied` event's metadata, whose `intent` key
    (one of the six intents) is ColdCopy's own judgement of this reply.
    """
    metadata_intent = _coldcopy_intent((event_metadata or {}).get(EVENT_METADATA_INTENT_KEY))
    if metadata_intent:
        return _decision(metadata_intent, 1.0, Reason.COLDCOPY_EVENT_INTENT, UNKNOWN, metadata_intent.value)
    status_intent = _LEAD_STATUS_INTENTS.get((lead_status or "").strip().lower())
    if status_intent:
        return _decision(status_intent, 1.0, Reason.COLDCOPY_LEAD_STATUS, UNKNOWN, status_intent.value)

    normalised_headers = auto_reply.normalised_headers(headers)
    subject_line = _strip_reply_prefixes((subject if isinstance(subject, str) else "")[:1_000])
    own_words = phrase_match.without_greeting(reply_text.reply_own_text(text, html))
    language = guess_language(own_words or subject_line)

    header = auto_reply.auto_reply_header(normalised_headers)
    if header:
        return _decision(Intent.OUT_OF_OFFICE, header[1], Reason.AUTO_REPLY_HEADER, language, header[0])
    subject_words = auto_reply.auto_reply_subject(subject_line)
    if subject_words:
        return _decision(Intent.OUT_OF_OFFICE, 0.9, Reason.AUTO_REPLY_SUBJECT, language, subject_words)

    words = phrase_match.normalise(own_words)
    unsubscribe = phrases.UNSUBSCRIBE_PHRASES.first(words) or phrases.UNSUBSCRIBE_PHRASES.first(
        phrase_match.normalise(subject_line)
    )
    if unsubscribe:
        confidence = 0.95 if unsubscribe.language == ENGLISH else 0.85
        return _decision(
            Intent.UNSUBSCRIBE_REQUEST,
            confidence,
            Reason.UNSUBSCRIBE_PHRASE,
            _language(unsubscribe, language),
            unsubscribe.phrase,
        )
    if not words:
        return _decision(Intent.NEUTRAL, 0.3, Reason.EMPTY_REPLY, language, "")

    absent = phrases.OUT_OF_OFFICE_PHRASES.first(words)
    if absent:
        confidence = 0.8 if absent.language == ENGLISH else 0.7
        return _decision(
            Intent.OUT_OF_OFFICE,
            confidence,
            Reason.AUTO_REPLY_BODY,
            _language(absent, language),
            absent.phrase,
        )

    referral = _referral(words, own_words, normalised_headers, language)
    if referral:
        return referral
    return _polarity(words, own_words, language)


def _referral(words: str, own_words: str, headers: dict[str, str], language: str) -> IntentDecision | None:
    names_another = bool(_other_addresses(own_words, headers))
    deflection = phrases.DEFLECTION_PHRASES.first(words)
    if deflection is None:
        # Without a deflection, a yes or no said first is the answer ("Interested. Loop in my co-founder x@");
        # a weak hint counts only with another address, and so does another address alone.
        redirect = phrases.REDIRECT_PHRASES.first(words)
        hint = phrases.HINT_PHRASES.first(words) if names_another else None
        pointer = redirect or hint
        answer = phrases.INTERESTED_PHRASES.first(words) or phrases.NOT_INTERESTED_PHRASES.first(words)
        if answer and (pointer is None or answer.start < pointer.start):
            return None
        if pointer is None:
            if names_another:
                return _decision(Intent.REFERRAL, 0.6, Reason.REFERRAL_ADDRESS, language, "another address")
            return None
    match = deflection or redirect or hint
    assert match is not None
    # A deflection is surer than a redirect, a redirect than a hint; another address makes each surer.
    confidence = (0.8 if deflection else 0.7 if redirect else 0.6) + (0.1 if names_another else 0.0)
    confidence -= 0.0 if match.language == ENGLISH else 0.1
    reason = Reason.REFERRAL_PHRASE_AND_ADDRESS if names_another else Reason.REFERRAL_PHRASE
    return _decision(Intent.REFERRAL, confidence, reason, _language(match, language), match.phrase)


_PHRASE_INTENTS = (
    (phrases.NOT_INTERESTED_PHRASES, Intent.NOT_INTERESTED),
    (phrases.INTERESTED_PHRASES, Intent.INTERESTED),
    (phrases.NEUTRAL_PHRASES, Intent.NEUTRAL),
)


def _polarity(words: str, own_words: str, language: str) -> IntentDecision:
    found = [(match, intent) for phrase_set, intent in _PHRASE_INTENTS if (match := phrase_set.first(words))]
    compound = polarity.compound_polarity(own_words) if language == ENGLISH else 0.0
    if found:
        # The earliest phrase wins: the decision comes first, signatures and pleasantries last. On a tie
        # (same start) the order above wins: "not interested" before "interested".
        match, intent = min(found, key=lambda pair: pair[0].start)
        language = _language(match, language)
        confidence = 0.85 if language == ENGLISH else 0.55
        agrees = (intent is Intent.INTERESTED and compound >= 0.3) or (
            intent is Intent.NOT_INTERESTED and compound <= -0.3
        )
        contradicts = (intent is Intent.INTERESTED and compound <= -0.5) or (
            intent is Intent.NOT_INTERESTED and compound >= 0.7
        )
        confidence += 0.05 if agrees else -0.1 if contradicts else 0.0
        return _decision(intent, confidence, Reason.INTENT_PHRASE, language, match.phrase)
    if language == ENGLISH and compound >= POSITIVE_POLARITY:
        return _decision(
            Intent.INTERESTED,
            0.45 + compound / 4,
            Reason.LEXICON_POLARITY,
            language,
            f"vader {compound:+.2f}",
        )
    if language == ENGLISH and compound <= NEGATIVE_POLARITY:
        return _decision(
            Intent.NOT_INTERESTED,
            0.45 - compound / 4,
            Reason.LEXICON_POLARITY,
            language,
            f"vader {compound:+.2f}",
        )
    return _decision(Intent.NEUTRAL, 0.5 if language == ENGLISH else 0.3, Reason.NO_SIGNAL, language, "")
