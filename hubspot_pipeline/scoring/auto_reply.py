"""Automatic replies (out of office, vacation, helpdesk acknowledgements), told by their headers first
(RFC 3834 `Auto-Submitted`, the vendors' `X-Autoreply` family, `Precedence`), then by their subject.

Every automatic reply is `out_of_office` for the classifier: a machine answered, not the lead, whatever it says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

# Header name -> values that mean "not automatic" (anything else present means automatic).
_AUTO_HEADERS: dict[str, tuple[float, frozenset[str]]] = {
    "auto-submitted": (0.99, frozenset({"no"})),  # RFC 3834
    "x-autoreply": (0.97, frozenset({"no", "false", "0"})),
    "x-autorespond": (0.97, frozenset({"no", "false", "0"})),
    "x-autoresponder": (0.97, frozenset({"no", "false", "0"})),
    "x-autoreply-from": (0.97, frozenset()),
    "x-mail-autoreply": (0.97, frozenset({"no", "false", "0"})),
}
_PRECEDENCE_AUTO = frozenset({"auto_reply", "bulk", "junk"})
# Exchange puts it on its out-of-office answers (and on other machine mail); people's mail rarely has it.
_SUPPRESS_HEADER = "x-auto-response-suppress"
_MAX_HEADER_VALUE = 1_000

_SUBJECT = re.compile(
    r"\b(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (the )?office|ooo|on vacation|on holiday"
    r"|away from (the )?office|abwesenheitsnotiz|automatische antwort|abwesenheit|réponse automatique"
    r"|absence du bureau|message d'absence|respuesta automática|fuera de la oficina|resposta automática"
    r"|fora do escritório|automatisch antwoord|afwezigheid|risposta automatica|fuori ufficio|fuori sede)\b"
    # Single words only as the whole subject or its label ("Ausente: Re: ...", "Afwezig"), never in a topic.
    r"|^(auto|away|absent|absente|abwesend|ausente|afwezig|assente)\s*(:|$)"
)


def normalised_headers(headers: Mapping[str, object] | Iterable[tuple[str, object]] | None) -> dict[str, str]:
    """Lower-case names -> value (the first of repeated headers; lists taken as repeats), values bounded."""
    if not headers:
        return {}
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str):
            continue
        first = value[0] if isinstance(value, list | tuple) and value else value
        if isinstance(first, str | int | float | bool):
            result.setdefault(name.strip().lower(), str(first).strip()[:_MAX_HEADER_VALUE])
    return result


def auto_reply_header(headers: dict[str, str]) -> tuple[str, float] | None:
    """(`name: value`, confidence) of the header that marks the message as automatic, or None."""
    for name, (confidence, human_values) in _AUTO_HEADERS.items():
        if name in headers:
            # "auto-replied (vacation)", "auto-generated; type=..." : the keyword is the first token.
            keyword = re.split(r"[\s;(]", headers[name].lower(), maxsplit=1)[0]
            if keyword and keyword not in human_values:
                return f"{name}: {headers[name][:60]}", confidence
    precedence = headers.get("precedence", "").lower()
    if precedence in _PRECEDENCE_AUTO:
        return f"precedence: {precedence}", 0.95
    if headers.get(_SUPPRESS_HEADER):
        return f"{_SUPPRESS_HEADER}: {headers[_SUPPRESS_HEADER][:60]}", 0.9
    return None


def auto_reply_subject(subject: str) -> str | None:
    """The words of an automatic reply's subject ("Automatic reply:", "Abwesenheitsnotiz", ...), or None."""
    match = _SUBJECT.search(subject.lower()[:_MAX_HEADER_VALUE])
    return match.group(0) if match else None
