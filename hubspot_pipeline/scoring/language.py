"""Which language a short reply is written in, from its function words: enough to know whether the English
lexicon model may judge it. Replies too short to tell ("Ok", "STOP", "Nope.") count as English when they are
plain ASCII, since English is the commonest language of cold email."""

from __future__ import annotations

import re

ENGLISH = "en"
UNKNOWN = "und"

# Frequent short words of each language, leaving out those English shares ("a", "no", "me", "is", "was").
_FUNCTION_WORDS = {
    "en": "the and you your we our i i'm it is are to for this that with not no thanks thank please be will "
    "would can could of on at my me us have has do don't just but a an here if as all what how who yes "
    "let's send call more info next week sure time",
    "de": "und ich sie wir nicht der das ist mit bitte danke für ein eine ihre ihnen mich uns auf zu gerne "
    "kein keine wer aber nein ja im bei sehr viele grüße",
    "fr": "je vous nous pas le les de et est merci pour une un des du mon ma mes votre vos ne plus avec "
    "bonjour oui non suis sommes",
    "es": "que el los las de y es por gracias usted mi su sus una del para con estoy estamos hola sí más pero",
    "pt": "não que os de é obrigado obrigada você para com por uma um da meu minha sua estou temos olá sim "
    "mais mas",
    "nl": "ik je niet het een en van voor met bedankt graag mij mijn uw wij ben zijn op dat geen wel hoi",
    "it": "non che il di per sono grazie mio mia con una del della siamo ciao sì più ma ho",
}
_WORDS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LINK_OR_ADDRESS = re.compile(r"\S{0,200}(://|@|www\.)\S{0,200}")


def guess_language(text: str) -> str:
    """An ISO 639-1 code among en, de, fr, es, pt, nl, it, or 'und' when nothing says."""
    tokens = _TOKEN.findall(_LINK_OR_ADDRESS.sub(" ", text.lower()))
    scores = {lang: sum(token in words for token in tokens) for lang, words in _WORDS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang == ENGLISH))
    if scores[best] == 0:
        return ENGLISH if tokens and text.isascii() else UNKNOWN
    return best
