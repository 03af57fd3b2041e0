"""An email's content: MJML rendered to HTML, CSS inlined, the plain-text body made from the HTML, themes.

The builder stores MJML (Email.source); what is sent is HTML rendered server-side by mjml-python (the
Rust MRML port: no Node at run time) with the remaining <style> rules inlined by css-inline, because
several clients (Gmail's app with non-Google accounts, older Outlooks) drop <style> blocks; media
queries are kept for the clients that read them. HTML written in code mode is kept as its author wrote it:
an email is sent, never shown in Tidings' origin, so it is not sanitised, only ever shown to members in a
sandboxed frame (decision 0025).

The text body is made with the standard library's html.parser (decision 0025: no dependency, and the
well-known converter, html2text, is GPL): paragraphs and headings become blocks, links "text (url)",
list items "- ", images their alt text; head, style and script are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import css_inline
import mjml

MAX_SOURCE = 1_000_000  # characters of MJML or HTML

_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
    "ul", "ol", "blockquote", "center", "hr", "pre",
}  # fmt: skip
_SKIPPED = {"head", "style", "script", "title", "template", "noscript"}
_INLINER = css_inline.CSSInliner(keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False)


class MjmlError(ValueError):
    """The builder's MJML could not be rendered; the message names the problem, never the content."""


def render_mjml(source: str) -> str:
    """Return the email HTML of MJML source, its CSS inlined. Raise MjmlError when the MJML is not valid."""
    if "<mjml" not in source:
        raise MjmlError("MJML starts with <mjml>")
    try:
        rendered = mjml.mjml2html(source)
    except (ValueError, TypeError) as error:
        raise MjmlError(f"the MJML could not be rendered ({str(error)[:120]})") from error
    return inline_css(rendered)


def inline_css(html: str) -> str:
    """Return html with its <style> rules written into style attributes (at-rules such as @media kept)."""
    try:
        return _INLINER.inline(html)
    except (ValueError, css_inline.InlineError):
        return html  # CSS the inliner cannot read is left where the author put it


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str | None, int]] = []
        self.pre = 0

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in _SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "img" and values.get("alt"):
            self.out.append(f" {values['alt']} ")
        elif tag == "a":
            self.links.append((values.get("href"), len(self.out)))
        elif tag in _BLOCKS:
            self.pre += tag == "pre"
            self._block()

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in _SKIPPED:
            self.skipping -= 1

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            said = "".join(self.out[start:]).strip()
            if href and said and said != href and not href.startswith(("#", "mailto:", "javascript:")):
                self.out.append(f" ({href})")
        elif tag in _BLOCKS or tag == "td":
            self.pre -= tag == "pre" and self.pre > 0
            self.out.append("\n" if tag == "td" else "\n\n")

    def handle_data(self, data):
        if self.skipping:
            return
        self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def handle_comment(self, data):
        return  # conditional comments (Outlook) are not text


def html_to_text(html: str) -> str:
    """Return the plain-text version of an email's HTML (tokens such as {contactfield=...} stay as written)."""
    maker = _TextMaker()
    maker.feed(html)
    maker.close()
    lines = [line.strip() for line in "".join(maker.out).replace("\xa0", " ").splitlines()]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text


# ==============================================================================================
# Themes: starter MJML the builder opens with (Tidings' own wording). No self-closing tags: GrapesJS parses
# MJML as HTML, where "<mj-all />" opens an element that swallows its next siblings.


@dataclass(frozen=True)
class Theme:
    key: str
    name: str
    description: str
    mjml: str


_HEAD = """<mj-head><mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif"></mj-all>
<mj-text font-size="16px" line-height="1.5" color="#1f2933"></mj-text></mj-attributes></mj-head>"""
_FOOTER = """<mj-section padding="24px 0"><mj-column>
<mj-text font-size="12px" color="#52606d" align="center">You get this email because you subscribed to our news.
<a href="{unsubscribe_url}">Unsubscribe</a> · <a href="{webview_url}">View it in your browser</a></mj-text>
</mj-column></mj-section>"""

THEMES: dict[str, Theme] = {
    theme.key: theme
    for theme in (
        Theme(
            "blank",
            "Blank",
            "One section with a line of text: start from nothing.",
            f"""<mjml>{_HEAD}<mj-body background-color="#ffffff"><mj-section><mj-column>
<mj-text>Hello {{contactfield=firstname|there}},</mj-text>
</mj-column></mj-section>{_FOOTER}</mj-body></mjml>""",
        ),
        Theme(
            "newsletter",
            "Newsletter",
            "A heading, two stories side by side and a button to read more.",
            f"""<mjml>{_HEAD}<mj-body background-color="#f5f7fa"><mj-section background-color="#ffffff">
<mj-column><mj-text font-size="24px" font-weight="bold">This month's news</mj-text>
<mj-text>Hello {{contactfield=firstname|there}}, here is what happened since our last letter.</mj-text>
<mj-divider border-color="#cbd2d9" border-width="1px"></mj-divider></mj-column></mj-section>
<mj-section background-color="#ffffff"><mj-column><mj-text font-weight="bold">First story</mj-text>
<mj-text>Two or three sentences that make the reader want to know more.</mj-text></mj-column>
<mj-column><mj-text font-weight="bold">Second story</mj-text>
<mj-text>Another short summary, with a link to the whole story.</mj-text></mj-column></mj-section>
<mj-section background-color="#ffffff"><mj-column>
<mj-button href="https://example.com/news" background-color="#1d4ed8">Read everything</mj-button>
</mj-column></mj-section>{_FOOTER}</mj-body></mjml>""",
        ),
        Theme(
            "announcement",
            "Announcement",
            "One big message with a picture and a single call to action.",
            f"""<mjml>{_HEAD}<mj-body background-color="#ffffff"><mj-section><mj-column>
<mj-text font-size="28px" font-weight="bold" align="center">Something new is here</mj-text>
<mj-image src="https://example.com/announcement.png" alt="What is new" width="480px"></mj-image>
<mj-text align="center">{{contactfield=firstname|Hello}}, we made something we think you will like.</mj-text>
<mj-button href="https://example.com/new" background-color="#1d4ed8">See what is new</mj-button>
<mj-social font-size="12px" icon-size="24px" mode="horizontal">
<mj-social-element name="facebook-noshare" href="https://example.com/facebook">Facebook</mj-social-element>
<mj-social-element name="linkedin-noshare" href="https://example.com/linkedin">LinkedIn</mj-social-element>
</mj-social></mj-column></mj-section>{_FOOTER}</mj-body></mjml>""",
        ),
    )
}


def theme_source(key: str) -> str:
    """Return the MJML a new builder email of theme key starts with ("" for an unknown key)."""
    theme = THEMES.get(key)
    return theme.mjml if theme is not None else ""
