"""Behaviour of each reply-intent rule, in the order they apply (hubspot_pipeline/scoring/intent.py).

Covers ColdCopy's judgement, auto-reply headers and subjects, unsubscribe before polarity, referrals, polarity
by phrase and by VADER, quoted text, HTML-only and empty replies, and the confidence of non-English replies.
The labelled-set accuracy is in test_intent_accuracy.py; text extraction in test_reply_text.py.
"""

from __future__ import annotations

import socket

import pytest

from hubspot_pipeline.scoring import polarity
from hubspot_pipeline.scoring.intent import NON_ENGLISH_MAX_CONFIDENCE, Intent, Reason, classify_reply

LEAD = "Dana Whitfield <dana@northwind.io>"
US = "Alex Rivera <alex@growthly.io>"
HEADERS = {"From": LEAD, "To": US, "Message-ID": "<a1@northwind.io>", "In-Reply-To": "<c1@mail.coldcopy.app>"}
OUR_EMAIL = (
    "Hi Dana,\n\nAre you interested in 20 more meetings a month? Let's talk: book a call with me, or I can send\n"
    'more info. Not interested? Reply "no thanks". Reply "unsubscribe" to stop hearing from me.\n\nAlex'
)


def quoted_gmail(body: str = OUR_EMAIL) -> str:
    return "On Tue, Mar 4, 2025 at 10:12 AM Alex Rivera <alex@growthly.io> wrote:\n\n" + "\n".join(
        "> " + line for line in body.splitlines()
    )


def classify(text: str, **kwargs: object) -> object:
    kwargs.setdefault("subject", "Re: Quick question about Northwind")
    kwargs.setdefault("headers", HEADERS)
    return classify_reply(text=text, **kwargs)  # type: ignore[arg-type]


# ColdCopy's judgement ---------------------------------------------------------------------------------


def test_an_intent_in_the_event_metadata_wins_over_every_rule() -> None:
    decision = classify_reply(
        subject="Automatic reply: away",
        text="Please unsubscribe me.",
        headers={**HEADERS, "Auto-Submitted": "auto-replied"},
        lead_status="not_interested",
        event_metadata={"intent": "Interested"},
    )
    assert (decision.intent, decision.confidence, decision.reason) == (
        Intent.INTERESTED,
        1.0,
        Reason.COLDCOPY_EVENT_INTENT,
    )


@pytest.mark.parametrize(
    ("status", "intent"), [("interested", Intent.INTERESTED), ("not_interested", Intent.NOT_INTERESTED)]
)
def test_a_lead_status_set_by_a_user_wins_with_full_confidence(status: str, intent: Intent) -> None:
    decision = classify("Please remove me from your list.", lead_status=status)
    assert (decision.intent, decision.confidence, decision.reason) == (
        intent,
        1.0,
        Reason.COLDCOPY_LEAD_STATUS,
    )


@pytest.mark.parametrize("status", ["new", "contacted", "replied", "unsubscribed", "bounced", "", None])
def test_other_lead_statuses_are_not_a_judgement_of_the_reply(status: str | None) -> None:
    decision = classify("Let's talk, Thursday works.", lead_status=status)
    assert decision.reason is Reason.INTENT_PHRASE
    assert decision.intent is Intent.INTERESTED


@pytest.mark.parametrize("value", ["maybe", "", 42, None, ["interested"], {"x": 1}])
def test_an_unknown_metadata_intent_is_ignored(value: object) -> None:
    decision = classify("No thanks.", event_metadata={"intent": value, "other": "interested"})
    assert (decision.intent, decision.reason) == (Intent.NOT_INTERESTED, Reason.INTENT_PHRASE)


def test_metadata_intent_spelled_with_spaces_or_dashes_is_understood() -> None:
    assert classify("", event_metadata={"intent": "Out-of-office"}).intent is Intent.OUT_OF_OFFICE
    assert (
        classify("", event_metadata={"intent": " unsubscribe request "}).intent is Intent.UNSUBSCRIBE_REQUEST
    )


# Automatic replies -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated"},
        {"auto-submitted": "auto-replied (vacation)"},
        {"AUTO-SUBMITTED": "auto-notified; owner-email=x@y.z"},
        {"X-Autoreply": "yes"},
        {"x-autorespond": "Away"},
        {"X-AutoReply-From": "dana@northwind.io"},
        {"Precedence": "auto_reply"},
        {"Precedence": "bulk"},
        {"PRECEDENCE": "Junk"},
        {"X-Auto-Response-Suppress": "All"},
    ],
)
def test_an_auto_reply_header_alone_makes_it_out_of_office(header: dict[str, str]) -> None:
    # The body says yes, the subject is a plain reply: the header alone decides.
    decision = classify("Yes, let's talk. Book a call with me.", headers={**HEADERS, **header})
    assert decision.intent is Intent.OUT_OF_OFFICE
    assert decision.reason is Reason.AUTO_REPLY_HEADER
    assert decision.confidence >= 0.9
    assert decision.evidence.split(":")[0] == next(iter(header)).lower()


@pytest.mark.parametrize(
    "header",
    [{"Auto-Submitted": "no"}, {"X-Autoreply": "no"}, {"Precedence": "list"}, {"X-Mailer": "Outlook"}],
)
def test_headers_that_say_human_leave_the_body_to_decide(header: dict[str, str]) -> None:
    decision = classify("Yes, let's talk.", headers={**HEADERS, **header})
    assert decision.intent is Intent.INTERESTED


def test_headers_may_be_pairs_with_repeats_and_values_of_any_type() -> None:
    pairs = [("Received", "from a"), ("Received", "from b"), ("X-Weird", None), ("X-List", ["auto-replied"])]
    assert classify("Yes, let's talk.", headers=pairs).intent is Intent.INTERESTED
    decision = classify("Yes, let's talk.", headers=[("Auto-Submitted", ["auto-replied", "no"]), (3, "x")])
    assert decision.intent is Intent.OUT_OF_OFFICE


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: Quick question about Northwind",
        "Out of Office: Re: Quick question",
        "Auto: Re: Quick question",
        "Abwesenheitsnotiz: Kurze Frage",
        "Automatische Antwort: Kurze Frage",
        "Réponse automatique : Question rapide",
        "Absence du bureau",
        "Respuesta automática: Pregunta rápida",
        "Fuera de la oficina",
        "Ausente",
        "Resposta automática: Pergunta rápida",
        "Automatisch antwoord: Korte vraag",
        "Afwezig",
        "Risposta automatica: Domanda veloce",
        "Fuori ufficio",
    ],
)
def test_auto_reply_subjects_in_seven_languages_are_out_of_office(subject: str) -> None:
    decision = classify("Thanks for your message.", subject=subject)
    assert (decision.intent, decision.reason) == (Intent.OUT_OF_OFFICE, Reason.AUTO_REPLY_SUBJECT)


def test_a_topic_word_inside_a_subject_is_not_an_auto_reply() -> None:
    decision = classify("Yes, let's talk.", subject="Re: Absent data in our automated reports")
    assert decision.intent is Intent.INTERESTED


def test_an_out_of_office_body_without_header_or_subject_is_out_of_office() -> None:
    decision = classify("I am out of the office until 17 March with limited access to email.")
    assert (decision.intent, decision.reason) == (Intent.OUT_OF_OFFICE, Reason.AUTO_REPLY_BODY)


def test_a_person_who_was_away_and_says_yes_is_interested() -> None:
    assert classify("I was out of office last week, sorry. Yes, let's talk.").intent is Intent.INTERESTED


# Unsubscribe requests, before polarity -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Unsubscribe",
        "STOP",
        "Please remove me from your mailing list.",
        "Take me off your list.",
        "Stop emailing me.",
        "Not interested. Please remove me from your list.",  # a no, but first of all an unsubscribe
        "Thanks, lovely email, but please unsubscribe me!",  # positive words
        "Bitte abmelden.",
        "Bitte nehmen Sie mich aus Ihrem Verteiler.",
        "Merci de me désabonner.",
        "Por favor, darme de baja.",
        "Por favor, me remova da sua lista.",
        "Graag uitschrijven.",
        "Per favore cancellatemi dalla lista.",
    ],
)
def test_unsubscribe_requests_are_recognised_before_polarity(text: str) -> None:
    decision = classify(text + "\n\n" + quoted_gmail())
    assert (decision.intent, decision.reason) == (Intent.UNSUBSCRIBE_REQUEST, Reason.UNSUBSCRIBE_PHRASE)


@pytest.mark.parametrize(
    "text",
    [
        "I'd like to be removed from any further communications.",
        "Please stop all of these emails.",
        "Kindly delete me from every one of your lists.",
        "Please stop. I've asked twice.",
        "Don't reach out to me ever again.",
    ],
)
def test_a_stop_or_remove_verb_with_what_to_stop_is_an_unsubscribe_request(text: str) -> None:
    assert classify(text).intent is Intent.UNSUBSCRIBE_REQUEST


@pytest.mark.parametrize(
    "text",
    [
        "Stop by our booth next week, let's talk.",
        "Can you take me through the demo on Friday?",
        "Please remove the attachment from the email and resend.",
    ],
)
def test_stop_and_remove_about_something_else_are_not_unsubscribe_requests(text: str) -> None:
    assert classify(text).intent is not Intent.UNSUBSCRIBE_REQUEST


def test_an_unsubscribe_subject_with_an_empty_body_is_an_unsubscribe_request() -> None:
    assert classify("", subject="unsubscribe").intent is Intent.UNSUBSCRIBE_REQUEST


def test_i_will_get_in_touch_in_german_is_not_abmelden() -> None:
    decision = classify("Ich melde mich nächste Woche bei Ihnen.")
    assert decision.intent is Intent.NEUTRAL


# Referrals ---------------------------------------------------------------------------------------------


def test_not_the_right_person_with_another_address_is_a_referral() -> None:
    decision = classify("I'm not the right person. Please reach out to Sarah: sarah.kim@northwind.io")
    assert (decision.intent, decision.reason) == (Intent.REFERRAL, Reason.REFERRAL_PHRASE_AND_ADDRESS)
    assert decision.confidence == 0.9


def test_a_redirect_to_a_colleague_in_cc_is_a_referral() -> None:
    headers = {**HEADERS, "Cc": "Tom Walsh <tom@northwind.io>"}
    decision = classify("Cc'ing Tom who runs finance, he's the one to talk to.", headers=headers)
    assert (decision.intent, decision.reason) == (Intent.REFERRAL, Reason.REFERRAL_PHRASE_AND_ADDRESS)


def test_the_leads_own_address_in_the_signature_is_not_another_address() -> None:
    decision = classify("Please get in touch with our procurement team.\n\nDana\ndana@northwind.io")
    assert (decision.intent, decision.reason) == (Intent.REFERRAL, Reason.REFERRAL_PHRASE)


def test_a_yes_that_adds_a_colleague_stays_interested() -> None:
    decision = classify("Interested! Looping in my co-founder raj@northwind.io too.")
    assert decision.intent is Intent.INTERESTED


def test_a_non_english_referral_is_less_sure() -> None:
    english = classify("I'm not the right person, talk to t.mueller@northwind.io")
    german = classify("Dafür bin ich nicht zuständig. Bitte wenden Sie sich an t.mueller@northwind.io")
    assert english.intent is german.intent is Intent.REFERRAL
    assert german.confidence < english.confidence


def test_a_weak_pointer_counts_with_another_address() -> None:
    decision = classify("Please send this to careers@northwind.io instead.")
    assert (decision.intent, decision.reason) == (Intent.REFERRAL, Reason.REFERRAL_PHRASE_AND_ADDRESS)
    assert classify("Please send this to me instead.").intent is not Intent.REFERRAL


def test_another_address_and_no_answer_is_a_referral_with_a_low_confidence() -> None:
    decision = classify("jane.doe@northwind.io")
    assert (decision.intent, decision.reason, decision.confidence) == (
        Intent.REFERRAL,
        Reason.REFERRAL_ADDRESS,
        0.6,
    )


# Polarity ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("Let's talk. Does Thursday at 2pm work?", Intent.INTERESTED),
        ("Sure, send me more info.", Intent.INTERESTED),
        ("Book a call here: https://calendly.com/dana/30min", Intent.INTERESTED),
        ("Not interested, thanks.", Intent.NOT_INTERESTED),
        ("No thanks.", Intent.NOT_INTERESTED),
        ("We already use Outreach for this.", Intent.NOT_INTERESTED),
        ("Thanks so much! We're really happy with our current provider though.", Intent.NOT_INTERESTED),
        ("I'll check with the team and get back to you.", Intent.NEUTRAL),
        (
            "Not interested.\n\nDana | Book a call with our team: https://northwind.io/book",
            Intent.NOT_INTERESTED,
        ),
    ],
)
def test_the_earliest_intent_phrase_decides(text: str, intent: Intent) -> None:
    decision = classify(text)
    assert (decision.intent, decision.reason) == (intent, Reason.INTENT_PHRASE)
    assert 0.75 <= decision.confidence <= 0.9


def test_the_lexicon_model_decides_english_replies_without_an_intent_phrase() -> None:
    positive = classify("Wow, this is wonderful, exactly what we needed!")
    negative = classify("This is annoying and useless. Terrible.")
    assert (positive.intent, positive.reason) == (Intent.INTERESTED, Reason.LEXICON_POLARITY)
    assert (negative.intent, negative.reason) == (Intent.NOT_INTERESTED, Reason.LEXICON_POLARITY)
    assert positive.evidence.startswith("vader +") and negative.evidence.startswith("vader -")


def test_the_lexicon_model_raises_the_confidence_of_a_phrase_it_agrees_with() -> None:
    plain = classify("Let's talk.")
    warm = classify("Let's talk, this sounds great and I love the idea!")
    assert warm.intent is plain.intent is Intent.INTERESTED
    assert warm.confidence > plain.confidence


def test_politeness_does_not_count_as_interest() -> None:
    # VADER scores "thanks" as positive; in a reply it is manners, not a yes.
    assert polarity.compound_polarity("Thanks so much, appreciate it. Kind regards") == 0.0
    assert classify("Thanks, much appreciated!").intent is Intent.NEUTRAL


def test_a_question_with_no_signal_is_neutral() -> None:
    decision = classify("Are you the founder?")
    assert (decision.intent, decision.reason) == (Intent.NEUTRAL, Reason.NO_SIGNAL)


@pytest.mark.parametrize(
    ("text", "intent", "language"),
    [
        ("Kein Interesse, danke.", Intent.NOT_INTERESTED, "de"),
        ("Klingt spannend, schicken Sie mir mehr Informationen.", Intent.INTERESTED, "de"),
        ("Non merci, pas intéressé.", Intent.NOT_INTERESTED, "fr"),
        ("Sí, me interesa. ¿Podemos hablar el lunes?", Intent.INTERESTED, "es"),
        ("Não temos interesse no momento.", Intent.NOT_INTERESTED, "pt"),
        ("Geen interesse, bedankt.", Intent.NOT_INTERESTED, "nl"),
        ("Mi interessa, possiamo sentirci martedì?", Intent.INTERESTED, "it"),
        ("Wer sind Sie?", Intent.NEUTRAL, "de"),
    ],
)
def test_a_non_english_reply_is_decided_by_phrases_with_a_low_confidence(
    text: str, intent: Intent, language: str
) -> None:
    decision = classify(text)
    assert (decision.intent, decision.language) == (intent, language)
    assert decision.confidence <= NON_ENGLISH_MAX_CONFIDENCE
    assert classify("Not interested, thanks.").confidence > NON_ENGLISH_MAX_CONFIDENCE


# What is read ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quote",
    [
        quoted_gmail(),
        "On Tue, Mar 4, 2025 at 10:12 AM Alex Rivera <\nalex@growthly.io> wrote:\n\n"
        + "\n".join("> " + line for line in OUR_EMAIL.splitlines()),
        "-----Original Message-----\nFrom: Alex Rivera <alex@growthly.io>\nSent: Tuesday, March 4, 2025\n"
        "To: dana@northwind.io\nSubject: Quick question\n\n" + OUR_EMAIL,
        "________________________________\nFrom: Alex Rivera <alex@growthly.io>\nSent: Tuesday, March 4, 2025\n"
        "Subject: Quick question\n\n" + OUR_EMAIL,
        "Von: Alex Rivera <alex@growthly.io>\nGesendet: Dienstag, 4. März 2025 10:12\nAn: dana@northwind.io\n"
        "Betreff: Kurze Frage\n\n" + OUR_EMAIL,
        "Le mar. 4 mars 2025 à 10:12, Alex Rivera <alex@growthly.io> a écrit :\n"
        + "\n".join("> " + line for line in OUR_EMAIL.splitlines()),
        "Op di 4 mrt. 2025 om 10:12 schreef Alex Rivera <alex@growthly.io>:\n"
        + "\n".join("> " + line for line in OUR_EMAIL.splitlines()),
    ],
)
def test_the_quoted_original_never_decides(quote: str) -> None:
    # Our cold email says "interested", "let's talk", "no thanks" and "unsubscribe": none of it may count.
    assert classify("We already work with an agency.\n\n" + quote).intent is Intent.NOT_INTERESTED
    assert classify("Are you the founder?\n\n" + quote).intent is Intent.NEUTRAL
    only_quote = classify(quote)
    assert (only_quote.intent, only_quote.reason) == (Intent.NEUTRAL, Reason.EMPTY_REPLY)


def test_an_html_only_reply_is_read_without_its_quote() -> None:
    html = (
        '<html><head><style>p { color: red } .unsubscribe {}</style></head><body><div dir="ltr">Yes, let&#39;s '
        'book a call.<br>Wednesday?</div><div class="gmail_quote">On Tue, Alex wrote:<blockquote>Reply '
        '"unsubscribe" to stop hearing from me.</blockquote></div></body></html>'
    )
    decision = classify_reply(subject="Re: Quick question", text=None, html=html, headers=HEADERS)
    assert (decision.intent, decision.reason) == (Intent.INTERESTED, Reason.INTENT_PHRASE)


def test_the_text_body_is_preferred_to_the_html_body() -> None:
    decision = classify("No thanks.", html="<p>Yes, let's talk!</p>")
    assert decision.intent is Intent.NOT_INTERESTED


def test_a_blank_text_body_falls_back_to_the_html_body() -> None:
    decision = classify(" \r\n ", html="<p>Please remove me from your list.</p>")
    assert decision.intent is Intent.UNSUBSCRIBE_REQUEST


@pytest.mark.parametrize(("text", "html"), [("", None), (None, None), ("\n \n", ""), (None, "<p> </p><br>")])
def test_an_empty_reply_is_neutral_with_a_low_confidence(text: str | None, html: str | None) -> None:
    decision = classify_reply(subject="Re: Quick question", text=text, html=html, headers=HEADERS)
    assert (decision.intent, decision.reason, decision.confidence) == (
        Intent.NEUTRAL,
        Reason.EMPTY_REPLY,
        0.3,
    )


def test_nothing_at_all_is_neutral() -> None:
    decision = classify_reply()
    assert (decision.intent, decision.reason) == (Intent.NEUTRAL, Reason.EMPTY_REPLY)


def test_classifying_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the classifier opened a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    polarity._analyzer.cache_clear()  # load the lexicon again, under the ban
    decision = classify("Wow, this is wonderful, exactly what we needed!")
    assert decision.reason is Reason.LEXICON_POLARITY
