"""The lead's own words in a reply: HTML made text, the quoted original and the signature cut away.

Replies quote the cold email they answer, and that email says "interested?", "book a call", "reply
unsubscribe": a classifier that read the quote would judge our own words. Everything here is bounded in
size, because the body is written by a stranger: at most `MAX_INPUT_CHARS` of a body are read, at most
`MAX_OWN_TEXT_CHARS` of the lead's text are kept, and every pattern runs in linear time on one line.
"""

from __future__ import annotations

import html
import re
import unicodedata

# A real reply is a few kilobytes; a body larger than this is cut before it is read.
MAX_INPUT_CHARS = 100_000
# The decision is in the first lines; a long own text is cut to this before the rules read it.
MAX_OWN_TEXT_CHARS = 5_000

# Elements whose content is never shown; script-like ones hold raw text up to their end tag.
_RAW_TEXT_TAGS = frozenset(
    {"script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript"}
)
_HIDDEN_TAGS = frozenset({"head", "template", "svg", "object"}) | _RAW_TEXT_TAGS
_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "tr", "table", "ul", "ol", "hr", "pre", "section", "article", "header", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "dd", "dt", "center"}
)  # fmt: skip
# Where mail clients start the quoted original in HTML: everything from here on is theirs, not the lead's.
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote", "zmail_extra")
_QUOTE_IDS = (
    "divrplyfwdmsg",
    "appendonsend",
    "mail-editor-reference-message-container",
    "olk_src_body_section",
)
# Elements nested deeper than this are not tracked (they inherit hidden/quoted from the deepest tracked one):
# each end tag then searches a bounded stack.
MAX_TRACKED_DEPTH = 200
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)

# One tag, attributes included, looked for only up to the next '<' and at most 2,000 characters on: so each
# '<' of a malformed body costs a bounded amount of work, and the whole body linear time. (html.parser
# re-scans to the end of the input for every unfinished tag: 130 s for "<a " repeated 34,000 times.)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]{0,30})([^<>]{0,2000})>")
_ATTRIBUTE = re.compile(r"""([a-zA-Z_:][-a-zA-Z0-9_:.]{0,60})\s*(?:=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")


def _attributes(text: str) -> dict[str, str]:
    return {
        name.lower(): html.unescape(value.strip("\"'")).lower() for name, value in _ATTRIBUTE.findall(text)
    }


class _TextBuilder:
    """Visible text from a stream of tags: text in <blockquote> gets '> ' lines, a quote marker ends the reply."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, hidden, quoted)
        self.mailto: list[str] = []

    def start(self, tag: str, attributes: dict[str, str], self_closing: bool) -> bool:
        """False when the quoted original starts here."""
        if any(marker in attributes.get("class", "") for marker in _QUOTE_CLASSES):
            return False
        if attributes.get("id", "") in _QUOTE_IDS:
            return False
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag in _VOID_TAGS or self_closing or len(self.stack) >= MAX_TRACKED_DEPTH:
            return True
        hidden = bool(self.stack) and self.stack[-1][1]
        hidden = (
            hidden or tag in _HIDDEN_TAGS or "display:none" in attributes.get("style", "").replace(" ", "")
        )
        quoted = (bool(self.stack) and self.stack[-1][2]) or tag == "blockquote"
        self.stack.append((tag, hidden, quoted))
        href = attributes.get("href", "")
        # Keep a mailto link's address: "talk to <a href=mailto:x>Nina</a>" names another address.
        self.mailto.append(href[7:].split("?")[0][:200] if tag == "a" and href.startswith("mailto:") else "")
        return True

    def end(self, tag: str) -> None:
        # Close the innermost open element of that name (browsers forgive mis-nesting; so do we).
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                address = self.mailto[depth]
                del self.stack[depth:]
                del self.mailto[depth:]
                if address:
                    self.text(f" <{address}>")
                break
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def text(self, data: str) -> None:
        if self.stack and self.stack[-1][1]:
            return
        data = html.unescape(data)
        if self.stack and self.stack[-1][2]:
            data = "\n".join("> " + line for line in data.split("\n"))
        self.parts.append(data)


def html_to_text(body: str) -> str:
    """The visible text of an HTML body (scripts, styles and hidden elements dropped), quotes marked with '>'.

    An unclosed comment or raw-text element (<script>, <style>, ...) hides the rest of the body, as in a browser.
    """
    body = body[:MAX_INPUT_CHARS]
    lowered = body.lower()
    builder = _TextBuilder()
    position = 0
    while position < len(body):
        opening = body.find("<", position)
        if opening < 0:
            builder.text(body[position:])
            break
        builder.text(body[position:opening])
        if body.startswith("<!--", opening):
            closing = body.find("-->", opening + 4)
            if closing < 0:
                break
            position = closing + 3
            continue
        tag = _TAG.match(body, opening)
        if tag is None:
            if body.startswith(("<!", "<?"), opening):  # doctype, CDATA, processing instruction
                closing = body.find(">", opening)
                if closing < 0:
                    break
                position = closing + 1
                continue
            builder.text("<")
            position = opening + 1
            continue
        name = tag.group(2).lower()
        position = tag.end()
        if tag.group(1):
            builder.end(name)
            continue
        attribute_text = tag.group(3)
        if not builder.start(name, _attributes(attribute_text), attribute_text.rstrip().endswith("/")):
            break
        if name in _RAW_TEXT_TAGS:
            closing = lowered.find(f"</{name}", position)
            if closing < 0:
                break
            builder.end(name)
            end_of_tag = body.find(">", closing)
            position = len(body) if end_of_tag < 0 else end_of_tag + 1
    lines = (" ".join(line.split()) for line in "".join(builder.parts).split("\n"))
    return "\n".join(lines)


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text[:MAX_INPUT_CHARS]).translate(_ZERO_WIDTH)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " ")


_ORIGINAL_MESSAGE = re.compile(
    r"^-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original"
    r"|oorspronkelijk bericht|messaggio originale|forwarded message|weitergeleitete nachricht)\s*-{2,}$"
)
_OUTLOOK_RULE = re.compile(r"^_{16,}$")
_HEADER_FROM = re.compile(r"^\*?(from|von|de|van|da|från|fra)\s*:")
_HEADER_NEXT = re.compile(
    r"^\*?(sent|date|gesendet|datum|envoyé|enviado|enviada|fecha|data|verzonden|inviato|subject|betreff|objet"
    r"|asunto|assunto|onderwerp|oggetto)\s*:"
)
_ATTRIBUTION_VERBS = ("wrote", "schrieb", "a écrit", "escribió", "escreveu", "schreef", "ha scritto", "skrev")
_SIGNATURE_START = re.compile(
    r"^(--|sent from my |sent from outlook|get outlook for |enviado desde mi |enviado do meu |envoyé de mon "
    r"|von meinem .{1,40} gesendet|inviato da |verzonden (vanaf|met) |verstuurd vanaf )"
)
_DISCLAIMER_START = re.compile(
    r"^(this (e-?mail|message|communication)\b.{0,60}\b(confidential|privileged|intended)|confidentiality notice"
    r"|disclaimer:|you are receiving this|you received this (e-?mail|message)|diese e-?mail (enthält|kann|ist)"
    r"|ce (message|courriel) (et|est|peut)|este (mensaje|correo) (y|es|puede|contiene))"
)


def _is_attribution(line: str) -> bool:
    """'On Tue, 4 Mar 2025, Alex <alex@x.io> wrote:' and its translations (the line before a quote)."""
    if not line.endswith(":") or len(line) > 400:
        return False
    return any(verb in line for verb in _ATTRIBUTION_VERBS) and (
        "@" in line or any(c.isdigit() for c in line)
    )


def _starts_original(lines: list[str], index: int) -> bool:
    """An unprefixed original starts here (Outlook and most desktop clients quote without '>')."""
    line = lines[index]
    if _ORIGINAL_MESSAGE.match(line) or _OUTLOOK_RULE.match(line):
        return True
    if _HEADER_FROM.match(line):
        return any(_HEADER_NEXT.match(following) for following in lines[index + 1 : index + 6])
    return False


def own_text(text: str) -> str:
    """The lead's own words: quoted lines, the original below a reply header, the signature and footer removed."""
    lines = [line.strip() for line in _normalise(text).split("\n")]
    lowered = [line.lower() for line in lines]
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lowered[index]
        if line.startswith(">"):
            index += 1
            continue
        joined = f"{line} {lowered[index + 1]}" if index + 1 < len(lines) else line
        attribution_lines = 1 if _is_attribution(line) else 2 if _is_attribution(joined) else 0
        if attribution_lines:
            following = next((later for later in lowered[index + attribution_lines :] if later), "")
            if not following.startswith(">"):
                break  # an attribution over an unprefixed original: the rest is theirs
            index += attribution_lines
            continue
        if _starts_original(lowered, index) or _SIGNATURE_START.match(line) or _DISCLAIMER_START.match(line):
            break
        kept.append(lines[index])
        index += 1
    own = "\n".join(kept).strip()
    return re.sub(r"\n{3,}", "\n\n", own)[:MAX_OWN_TEXT_CHARS]


def reply_own_text(text: str | None, html: str | None) -> str:
    """The lead's own words from the text body, or from the HTML body when there is no text."""
    if text and text.strip():
        return own_text(text)
    if html and html.strip():
        return own_text(html_to_text(html))
    return ""
