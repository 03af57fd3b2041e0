"""Render an email version once, personalise it per contact fast.

prepare(version) does the costly work once per email version: the subject, preheader, HTML and text
are compiled into literals and tokens (tidings.emails.tokens), the links are marked with their
EmailLink rows (one per distinct URL of the version, made by number_links when the version is frozen
or sent: prepare itself only reads, so the public web view writes nothing), the
preheader goes in as a hidden block after <body>, and an open pixel is placed before </body> when the
author wrote no {tracking_pixel}. personalise() then only joins strings: per contact it builds the
values of the tokens the version uses and nothing else (a preference link is signed only when the
email has one), so a send personalises thousands of messages a second.

Tracked links: href="http(s)://..." values of the HTML without a token inside are numbered; in a
message each becomes the click redirect (links.click_url) naming the link by id. So do the http(s)
URLs written in the text part's literal text (the same rows and the same signed per-message token);
the sender's own links ({unsubscribe_url}, {webview_url}, {preference_url}) are tokens, never literal
text, so they are never rewritten. A link without its row (a version frozen before it was numbered, read
by the web view) stays as written. A preview (token None) shows the links and
the pixel as written, nothing tracked.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape, unescape

from tidings.emails import links
from tidings.emails.models import EmailLink, EmailVersion
from tidings.emails.tokens import Compiled, Token, compile_text, fill

# A link the sender may track: an absolute http(s) URL in an href, with no token inside.
_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(https?://[^"'{}<>\s]{1,2000})\2""", re.IGNORECASE)
_LINK_MARK = re.compile("\x00L(\\d+)\x00")
# A URL in plain text: up to whitespace, quotes, angle brackets, braces or a closing parenthesis, without the
# sentence punctuation that may follow it ("see https://acme.example/s." -> "https://acme.example/s").
_TEXT_URL = re.compile(r"""https?://[^\s"'<>{}()\x00]{1,2000}?(?=[.,;:!?]*(?:[\s"'<>{}()]|$))""", re.IGNORECASE)
_BODY_OPEN = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body\s*>", re.IGNORECASE)
PIXEL = '<img src="{src}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">'
PREHEADER = (
    '<span style="display:none!important;visibility:hidden;mso-hide:all;font-size:1px;line-height:1px;'
    'max-height:0;max-width:0;opacity:0;overflow:hidden">{text}</span>'
)


@dataclass(frozen=True, slots=True)
class LinkRef:
    """A tracked link in a compiled body: its EmailLink id and the attribute value as written (for previews)."""

    link_id: int
    written: str


Part = str | Token | LinkRef


@dataclass(frozen=True)
class Prepared:
    """One email version compiled for sending: what personalise() fills per contact."""

    workspace_id: int
    email_id: int
    version: int
    subject: Compiled
    preheader: Compiled
    html: tuple[Part, ...]
    text: tuple[Part, ...]  # tokens, literals and the text part's tracked links
    from_name: str
    from_address: str
    reply_to: str
    links: Mapping[int, str]  # EmailLink id -> URL
    uses: frozenset[str]  # names of the tokens the version holds ("contactfield", "preference_url"...)
    fields: frozenset[str]  # contact field aliases the version asks for
    owner_fields: frozenset[str]


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    html: str
    text: str
    tokens_hash: bytes  # SHA-256 of the personal values used: what was sent, without keeping it


def _text_urls(compiled: Compiled) -> dict[int, list[re.Match]]:
    """Return {index of a literal: its trackable URLs}: http(s), without the sentence punctuation after them.

    A URL that runs into a token ("https://acme.example/?e={contactfield=email}") is personal: not tracked.
    """
    found: dict[int, list[re.Match]] = {}
    for index, part in enumerate(compiled):
        if not isinstance(part, str):
            continue
        followed = index + 1 < len(compiled) and not isinstance(compiled[index + 1], str)
        matches = [m for m in _TEXT_URL.finditer(part) if not (followed and m.end() == len(part))]
        if matches:
            found[index] = matches
    return found


def link_urls(version: EmailVersion) -> set[str]:
    """Return the URLs of version that are tracked: the HTML's hrefs and the text part's literal URLs."""
    found = {unescape(m.group(3)) for m in _HREF.finditer(version.html.replace("\x00", ""))}
    for matches in _text_urls(compile_text(version.text.replace("\x00", ""))).values():
        found.update(m.group(0) for m in matches)
    return {url for url in found if len(url) <= 2000}


def number_links(version: EmailVersion) -> dict[str, int]:
    """Give each tracked URL of version its EmailLink row (made once, kept after); return {url: link id}.

    A write: called by the actions that freeze a version and by the sender before it prepares one.
    """
    existing = _existing_links(version)
    missing = sorted(url for url in link_urls(version) if url not in existing)
    if missing:
        EmailLink.objects.bulk_create(
            [EmailLink(email_id=version.email_id, version=version.number, url=url) for url in missing]
        )
        existing = _existing_links(version)
    return existing


def _existing_links(version: EmailVersion) -> dict[str, int]:
    rows = EmailLink.objects.filter(email_id=version.email_id, version=version.number).values_list("url", "id")
    return dict(rows)


def _number_links(html: str, existing: Mapping[str, int]) -> tuple[str, dict[str, str]]:
    """Return html with each numbered href replaced by a mark, and {mark: attribute as written}."""
    written: dict[str, str] = {}

    def mark(match: re.Match) -> str:
        link_id = existing.get(unescape(match.group(3)))
        if link_id is None:  # not numbered: left as written, not tracked
            return match.group(0)
        written[str(link_id)] = match.group(3)
        return f"{match.group(1)}{match.group(2)}\x00L{link_id}\x00{match.group(2)}"

    return _HREF.sub(mark, html), written


def _text_links(compiled: Compiled, existing: Mapping[str, int]) -> tuple[Part, ...]:
    """Split the text part's literals at their numbered URLs (LinkRef, written as is)."""
    parts: list[Part] = []
    urls = _text_urls(compiled)
    for index, part in enumerate(compiled):
        if not isinstance(part, str):
            parts.append(part)
            continue
        last = 0
        for match in urls.get(index, ()):
            link_id = existing.get(match.group(0))
            if link_id is None:
                continue
            if match.start() > last:
                parts.append(part[last : match.start()])
            parts.append(LinkRef(link_id, match.group(0)))
            last = match.end()
        if last < len(part):
            parts.append(part[last:])
    return tuple(parts)


def _split_links(compiled: Compiled, written: Mapping[str, str]) -> tuple[Part, ...]:
    parts: list[Part] = []
    for part in compiled:
        if not isinstance(part, str) or "\x00" not in part:
            parts.append(part)
            continue
        last = 0
        for match in _LINK_MARK.finditer(part):
            if match.start() > last:
                parts.append(part[last : match.start()])
            parts.append(LinkRef(int(match.group(1)), written.get(match.group(1), "")))
            last = match.end()
        if last < len(part):
            parts.append(part[last:])
    return tuple(parts)


def _with_preheader_and_pixel(html: str, preheader: str) -> str:
    if preheader:
        # The preheader is text (its tokens survive: html.escape leaves braces alone).
        block = PREHEADER.format(text=escape(preheader, quote=False))
        opening = _BODY_OPEN.search(html)
        html = html[: opening.end()] + block + html[opening.end() :] if opening else block + html
    if not any(isinstance(p, Token) and p.name == "tracking_pixel" for p in compile_text(html)):
        closings = list(_BODY_CLOSE.finditer(html))
        at = closings[-1].start() if closings else len(html)
        html = html[:at] + "{tracking_pixel}" + html[at:]
    return html


def prepare(version: EmailVersion) -> Prepared:
    """Compile version for sending: tokens parsed, links marked with their EmailLink rows, pixel placed.

    Only reads: the rows are made by number_links (at freeze and send time). Runs in the version's
    workspace. The stray NUL characters of authored HTML are dropped (they mark links).
    """
    existing = _existing_links(version)
    html = version.html.replace("\x00", "")
    html, written = _number_links(html, existing)
    html = _with_preheader_and_pixel(html, version.preheader.replace("\x00", ""))
    compiled_html = _split_links(compile_text(html), written)
    subject, preheader = (compile_text(version.subject.replace("\x00", "")),
                          compile_text(version.preheader.replace("\x00", "")))  # fmt: skip
    text = _text_links(compile_text(version.text.replace("\x00", "")), existing)
    numbered = {pk: url for url, pk in existing.items()}
    every = [p for body in (subject, preheader, compiled_html, text) for p in body if isinstance(p, Token)]
    return Prepared(
        workspace_id=version.workspace_id, email_id=version.email_id, version=version.number, subject=subject,
        preheader=preheader, html=compiled_html, text=text, from_name=version.from_name,
        from_address=version.from_address, reply_to=version.reply_to, links=numbered,
        uses=frozenset(p.name for p in every),
        fields=frozenset(p.argument for p in every if p.name == "contactfield"),
        owner_fields=frozenset(p.argument for p in every if p.name == "ownerfield"),
    )  # fmt: skip


def _format_date(value: str, kind: str) -> str:
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    if kind == "date":
        return moment.date().isoformat()
    if kind == "time":
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _fill_html(parts: tuple[Part, ...], resolve, *, link_url) -> str:
    """tokens.fill for an HTML body that also holds tracked links (contact values escaped, sender's as built)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, LinkRef):
            out.append(link_url(part))
        else:
            value = resolve(part)
            if part.field:
                out.append(escape(part.default if value is None or value == "" else value, quote=True))
            else:
                out.append("" if value is None else value)
    return "".join(out)


def _fill_text(parts: tuple[Part, ...], resolve, *, link_url) -> str:
    """tokens.fill for the text part, which also holds tracked links."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, LinkRef):
            out.append(link_url(part))
        else:
            value = resolve(part)
            if part.field:
                out.append(part.default if value is None or value == "" else value)
            else:
                out.append("" if value is None else value)
    return "".join(out)


def _extra(text: str, extra: Mapping[str, str] | None, *, html: bool) -> str:
    """Replace Mautic-style extra tokens ({"{name}": value}) a caller of send_to_contact passed."""
    if not extra:
        return text
    for name, value in extra.items():
        if name and name in text:
            text = text.replace(name, escape(value, quote=True) if html else value)
    return text


def personalise(
    prepared: Prepared,
    *,
    values: Mapping[str, str],
    owner: Mapping[str, str],
    token: str | None,
    workspace_slug: str,
    preference_url: str = "",
    extra: Mapping[str, str] | None = None,
    today: str | None = None,
) -> RenderedMessage:
    """Fill prepared with one contact's values: its fields (values), its owner's (owner) and the message's links.

    token: the message's signed token (links.message_token) or None for a preview (no link rewritten, no pixel).
    preference_url: the contact's preference-centre link (only asked for when prepared uses it).
    extra: Mautic-style tokens a caller adds ({"{coupon}": "SPRING"}), escaped in HTML like contact values.
    Contact and owner values are HTML-escaped in the HTML body; nothing raises on odd values.
    """
    today = today or datetime.date.today().isoformat()
    if token is not None:
        unsubscribe = links.unsubscribe_url(workspace_slug, token)
        webview = links.webview_url(workspace_slug, token)
        pixel = PIXEL.format(src=escape(links.open_pixel_url(workspace_slug, token), quote=True))
    else:
        unsubscribe = webview = "#"
        pixel = ""

    def field_value(part: Token) -> str | None:
        found = (owner if part.name == "ownerfield" else values).get(part.argument)
        if found is None or found == "":
            return None
        text = str(found).replace("\x00", "")  # NUL would end the message's text for many clients
        return _format_date(text, part.format) if part.format else text

    subject = ""  # {subject} in the subject itself reads as empty
    sender_text = {
        "unsubscribe_url": unsubscribe, "unsubscribe_text": f"Unsubscribe: {unsubscribe}", "webview_url": webview,
        "webview_text": f"View in your browser: {webview}", "preference_url": preference_url or unsubscribe,
        "signature": owner.get("signature", ""), "subject": subject, "today": today, "tracking_pixel": "",
    }  # fmt: skip

    def text_value(part: Token) -> str | None:
        return field_value(part) if part.field else sender_text.get(part.name, "")

    # A header holds one line: a value with a line break must not add headers (nor fail the message).
    subject = _extra(fill(prepared.subject, text_value, html=False), extra, html=False)
    subject = " ".join(subject.split()) if "\n" in subject or "\r" in subject else subject
    sender_text["subject"] = subject
    u, w = escape(unsubscribe, quote=True), escape(webview, quote=True)
    sender_html = {
        "unsubscribe_url": u, "webview_url": w, "preference_url": escape(preference_url or unsubscribe, quote=True),
        "unsubscribe_text": f'<a href="{u}">Unsubscribe</a>', "webview_text": f'<a href="{w}">View in your browser</a>',
        "signature": escape(owner.get("signature", ""), quote=True), "subject": escape(subject, quote=True),
        "today": escape(today), "tracking_pixel": pixel,
    }  # fmt: skip

    def html_value(part: Token) -> str | None:
        return field_value(part) if part.field else sender_html.get(part.name, "")

    if token is None:

        def link_url(ref: LinkRef) -> str:
            return ref.written
    else:

        def link_url(ref: LinkRef) -> str:
            return escape(links.click_url(workspace_slug, token, ref.link_id), quote=True)

    html = _extra(_fill_html(prepared.html, html_value, link_url=link_url), extra, html=True)
    if token is None:

        def text_link(ref: LinkRef) -> str:
            return ref.written
    else:

        def text_link(ref: LinkRef) -> str:
            return links.click_url(workspace_slug, token, ref.link_id)

    text = _extra(_fill_text(prepared.text, text_value, link_url=text_link), extra, html=False)
    digest = hashlib.sha256()
    for alias in sorted(prepared.fields):
        digest.update(f"{alias}\x1f{values.get(alias) or ''}\x1e".encode())
    for alias in sorted(prepared.owner_fields):
        digest.update(f"owner.{alias}\x1f{owner.get(alias) or ''}\x1e".encode())
    for name, value in sorted((extra or {}).items()):
        digest.update(f"extra.{name}\x1f{value}\x1e".encode())
    return RenderedMessage(subject=subject, html=html, text=text, tokens_hash=digest.digest())
