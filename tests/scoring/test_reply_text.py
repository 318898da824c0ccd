"""The lead's own words: HTML made text, quoted originals, signatures and disclaimers cut away; and bodies
written to hurt (malformed HTML, huge inputs, hidden text), which must still give a decision.

Not covered here: what the words mean (test_intent_rules.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hubspot_pipeline.scoring.intent import Intent, IntentDecision, Reason, classify_reply
from hubspot_pipeline.scoring.reply_text import (
    MAX_INPUT_CHARS,
    MAX_OWN_TEXT_CHARS,
    html_to_text,
    own_text,
    reply_own_text,
)

PITCH = "Hi Dana,\nInterested? Let's talk.\nReply unsubscribe to stop.\nAlex"


def prefixed(body: str) -> str:
    return "\n".join("> " + line for line in body.splitlines())


@pytest.mark.parametrize(
    "quote",
    [
        "On Tue, Mar 4, 2025 at 10:12 AM Alex <alex@growthly.io> wrote:\n" + prefixed(PITCH),
        "On 4 Mar 2025, at 10:12, Alex <alex@growthly.io> wrote:\n\n" + prefixed(PITCH),
        "On Tue, Mar 4, 2025 at 10:12 AM Alex Rivera <\nalex@growthly.io> wrote:\n" + prefixed(PITCH),
        "-----Original Message-----\nFrom: Alex\nSent: Tuesday\nSubject: Hi\n\n" + PITCH,
        "________________________________\nFrom: Alex <alex@growthly.io>\nSent: Tuesday\n\n" + PITCH,
        "From: Alex <alex@growthly.io>\nDate: Tue, 4 Mar 2025\nSubject: Hi\n\n" + PITCH,
        "Von: Alex <alex@growthly.io>\nGesendet: Dienstag\nAn: dana@northwind.io\nBetreff: Hi\n\n" + PITCH,
        "-----Ursprüngliche Nachricht-----\n" + PITCH,
        "Le mar. 4 mars 2025 à 10:12, Alex <alex@growthly.io> a écrit :\n" + prefixed(PITCH),
        "El mar, 4 mar 2025 a las 10:12, Alex (<alex@growthly.io>) escribió:\n" + prefixed(PITCH),
        "Em ter., 4 de mar. de 2025 às 10:12, Alex <alex@growthly.io> escreveu:\n" + prefixed(PITCH),
        "Op di 4 mrt. 2025 om 10:12 schreef Alex <alex@growthly.io>:\n" + prefixed(PITCH),
        "Il giorno mar 4 mar 2025 alle ore 10:12 Alex <alex@growthly.io> ha scritto:\n" + prefixed(PITCH),
        "Am 04.03.2025 um 10:12 schrieb Alex <alex@growthly.io>:\n" + prefixed(PITCH),
        # An attribution over an original that is not prefixed: everything below is theirs.
        "On Tue, Mar 4, 2025, Alex <alex@growthly.io> wrote:\n\n" + PITCH,
    ],
)
def test_the_quoted_original_is_cut_in_every_client_style(quote: str) -> None:
    assert own_text("No thanks.\n\n" + quote) == "No thanks."


def test_inline_answers_between_quoted_lines_are_kept() -> None:
    body = "On Tue, Alex <alex@growthly.io> wrote:\n> Interested?\nNo.\n> Shall I follow up?\nPlease don't."
    assert own_text(body) == "No.\nPlease don't."


@pytest.mark.parametrize(
    "tail",
    [
        "--\nDana Whitfield\nVP Sales",
        "Sent from my iPhone",
        "Get Outlook for iOS",
        "Von meinem iPhone gesendet",
        "Enviado desde mi iPhone",
        "This email and any attachments are confidential and intended for the addressee only. Unsubscribe.",
        "You are receiving this because you are a partner. Unsubscribe from our newsletter: https://x.io",
    ],
)
def test_signatures_and_disclaimers_are_cut(tail: str) -> None:
    assert own_text(f"Sounds good.\n\n{tail}") == "Sounds good."


def test_a_line_that_mentions_writing_is_not_an_attribution() -> None:
    assert own_text("On Monday I wrote to your colleague.\nNo reply yet.") == (
        "On Monday I wrote to your colleague.\nNo reply yet."
    )


def test_html_keeps_visible_text_and_drops_scripts_styles_and_hidden_elements() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>unsubscribe</title><style>p{}</style></head><body>"
        "<p>Hi&nbsp;there &amp; thanks</p><script>document.write('unsubscribe')</script>"
        '<span style="display: none">remove me from your list</span><!-- unsubscribe -->'
        "<div>Let's&#32;talk<br/>Thursday</div><img src=x onerror=alert(1)></body></html>"
    )
    assert html_to_text(html).split() == ["Hi", "there", "&", "thanks", "Let's", "talk", "Thursday"]


def test_html_blockquotes_become_quoted_lines_and_are_cut() -> None:
    html = '<div>No thanks.</div><blockquote type="cite"><p>Interested?</p><p>Let\'s talk</p></blockquote>'
    assert reply_own_text(None, html) == "No thanks."


@pytest.mark.parametrize(
    "marker",
    [
        '<div class="gmail_quote">',
        '<div id="divRplyFwdMsg">',
        '<div id="appendonsend"></div><hr>',
        '<div class="moz-cite-prefix">',
        '<div class="yahoo_quoted">',
    ],
)
def test_a_mail_clients_quote_marker_ends_the_reply(marker: str) -> None:
    html = f"<div>Please remove me.</div>{marker}<div>From: Alex<br>Let's talk! Interested?</div>"
    assert reply_own_text("", html) == "Please remove me."


def test_a_mailto_link_keeps_its_address() -> None:
    html = '<p>Please speak with <a href="mailto:nina@fjordlabs.io?subject=Hi">Nina Berg</a>.</p>'
    assert html_to_text(html).strip() == "Please speak with Nina Berg <nina@fjordlabs.io>."


def test_the_lead_own_text_is_bounded() -> None:
    assert len(own_text("word " * 100_000)) == MAX_OWN_TEXT_CHARS
    assert len(html_to_text("x" * (3 * MAX_INPUT_CHARS))) == MAX_INPUT_CHARS


# Attacker's inputs: each is linear for the tokenizer; html.parser took 130 s on the second one. The timeout is a
# guard against a hang, not a measure of speed.
MALFORMED_HTML = [
    "<" * 100_000,
    "<a " * 34_000,
    "<!--" * 25_000,
    "</" * 50_000,
    "<![CDATA[" * 11_000,
    "<?" * 50_000,
    "<!" * 50_000,
    "<script>" + "a<" * 50_000,
    "<a b='" + "x" * 100_000,
    "<a " + "b=1 " * 25_000 + ">",
    "<div>" * 10_000 + "</span>" * 7_000,
    "<blockquote>" * 8_000 + "remove me",
    "&#" * 50_000,
    "<div style=display:none>" * 300 + "unsubscribe" + "</div>" * 300 + "Let's talk",
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("html", MALFORMED_HTML, ids=range(len(MALFORMED_HTML)))
def test_malformed_html_gives_a_decision(html: str) -> None:
    decision = classify_reply(subject="Re: x", text=None, html=html, headers={"From": "a@b.c"})
    assert isinstance(decision.intent, Intent)
    assert decision.intent is not Intent.UNSUBSCRIBE_REQUEST  # hidden or quoted text never decides


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "text",
    [
        ">" * 500_000,
        "a\n" * 500_000,
        "a@" * 250_000,
        ("On 1 a wrote " * 40 + "\n") * 20_000,
        "From: x\n" * 100_000,
        " " * 500_000 + "stop",
    ],
)
def test_huge_text_bodies_give_a_decision(text: str) -> None:
    decision = classify_reply(subject="Re: " + "x" * 100_000, text=text, headers={"From": "x" * 100_000})
    assert isinstance(decision.intent, Intent)


@settings(max_examples=300, deadline=None)
@given(
    subject=st.one_of(st.none(), st.text(max_size=200)),
    text=st.one_of(st.none(), st.text(max_size=2_000)),
    html=st.one_of(
        st.none(),
        st.lists(st.sampled_from(["<", ">", "</", "<a ", "div", "=", "'", '"', "<!--", "-->", "&amp;", "x "]))
        .map("".join)
        .filter(lambda s: len(s) < 3_000),
    ),
    headers=st.dictionaries(
        st.text(max_size=30),
        st.one_of(
            st.none(), st.text(max_size=100), st.integers(), st.lists(st.text(max_size=20), max_size=3)
        ),
        max_size=8,
    ),
)
def test_any_input_gives_a_well_formed_decision(
    subject: str | None, text: str | None, html: str | None, headers: dict[str, object]
) -> None:
    decision = classify_reply(subject=subject, text=text, html=html, headers=headers)
    assert isinstance(decision, IntentDecision)
    assert isinstance(decision.intent, Intent) and isinstance(decision.reason, Reason)
    assert 0.0 <= decision.confidence <= 1.0
    assert len(decision.evidence) <= 80
