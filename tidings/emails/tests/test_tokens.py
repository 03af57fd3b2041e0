"""Mautic's personalisation tokens: parsed once, filled per contact, unknown ones reported."""

from hypothesis import given
from hypothesis import strategies as st

from tidings.emails.tokens import Token, compile_text, fill, tokens_in, unknown_tokens


def _values(token: Token) -> str | None:
    return {"firstname": "Ada <b>", "lastname": ""}.get(token.argument) if token.field else f"[{token.name}]"


def test_contact_fields_take_their_value_or_the_default_and_are_escaped_in_html():
    compiled = compile_text("Hi {contactfield=firstname|there}, {contactfield=lastname|friend}! {leadfield=city|}")
    assert fill(compiled, _values, html=True) == "Hi Ada &lt;b&gt;, friend! "
    assert fill(compiled, _values, html=False) == "Hi Ada <b>, friend! "


def test_sender_tokens_are_filled_as_given_and_css_is_left_alone():
    text = "<style>a{color:red} p { margin: 0 }</style><a href='{unsubscribe_url}'>x</a>{tracking_pixel}{today}"
    assert fill(compile_text(text), _values, html=True) == (
        "<style>a{color:red} p { margin: 0 }</style><a href='[unsubscribe_url]'>x</a>[tracking_pixel][today]"
    )


def test_date_formats_and_owner_fields_are_recognised():
    found = tokens_in("{contactfield=born|date} {ownerfield=email}")
    assert [(t.name, t.argument, t.format) for t in found] == [
        ("contactfield", "born", "date"),
        ("ownerfield", "email", ""),
    ]


def test_unknown_tokens_are_reported_once_as_written():
    assert unknown_tokens("{contactfeild=firstname} {unsubscribe_url} {webview} {webview}", "{subject=x}") == [
        "{contactfeild=firstname}",
        "{webview}",
        "{subject=x}",
    ]


@given(st.text(max_size=200))
def test_any_text_compiles_and_fills_back_to_itself_without_tokens(text):
    compiled = compile_text(text)
    rebuilt = fill(compiled, lambda token: token.text if not token.field else None, html=False)
    if not tokens_in(text):
        assert rebuilt == text
