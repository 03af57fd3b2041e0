"""Issue 12's "done when", end to end through the real pieces: an email written with the authoring actions,
broadcast to a segment by the sending engine to a real SMTP server on loopback (aiosmtpd), then its open
pixel, click redirect and RFC 8058 one-click unsubscribe followed the way a mail client would, over HTTP.

Ada allows tracking, Grace does not: both opens count, only Ada's is kept against her.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tidings.emails.tests.conftest import make_contact, make_segment, run, system

HTML = (
    "<html><body><p>Hi {contactfield=firstname|there} from {contactfield=city|somewhere}</p>"
    '<a href="https://shop.acme.example/spring?x=1">Spring sale</a> '
    '<a href="{unsubscribe_url}">Unsubscribe</a></body></html>'
)


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_a_broadcast_is_received_personalised_with_working_pixel_click_and_one_click_unsubscribe(in_acme, smtp, client):
    from tidings.consent.actions import consent_record
    from tidings.contacts import selectors as contacts_selectors
    from tidings.emails import selectors
    from tidings.emails.actions.authoring import email_create
    from tidings.emails.actions.sending import send_start
    from tidings.emails.models import Delivery

    ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada", "city": "London"})
    grace = make_contact({"email": "grace@navy.example", "firstname": "Grace"})
    consent_record(purpose="tracking", given=True, method="form", contact_id=ada.id, principal=system())
    segment = make_segment([ada.id, grace.id])
    email = email_create(principal=system(), name="Spring news", kind="list", subject="Hello {contactfield=firstname}",
                         from_name="Acme News", from_address="news@acme.example", html=HTML,
                         segment_ids=[segment.pk], published=True)  # fmt: skip

    send = send_start(email.pk, principal=system())
    assert run(send).status == "finished"

    # Received by the SMTP server, once each, personalised.
    assert len(smtp.messages) == 2
    (to_ada,) = smtp.to("ada@analytical.example")
    (to_grace,) = smtp.to("grace@navy.example")
    assert to_ada["Subject"] == "Hello Ada"
    ada_html = to_ada.get_body(("html",)).get_content()
    assert "Hi Ada from London" in ada_html
    assert "Hi Grace from somewhere" in to_grace.get_body(("html",)).get_content()

    # The open pixel: a GIF for both; only Ada's open is kept against her.
    for message in (to_ada, to_grace):
        html = message.get_body(("html",)).get_content()
        pixel = re.search(r'src="([^"]+/e/o/[^"]+\.gif)"', html).group(1)
        opened = client.get(_path(pixel))
        assert opened.status_code == 200 and opened["Content-Type"] == "image/gif"
    ada_row = Delivery.objects.get(send_id=send.pk, contact_id=ada.id)
    grace_row = Delivery.objects.get(send_id=send.pk, contact_id=grace.id)
    assert ada_row.opened_at is not None and grace_row.opened_at is None

    # The click redirect: to the email's own link, query string kept, the device identified (Ada allows tracking).
    click = re.search(r'href="([^"]+/e/c/[^"]+)"', ada_html).group(1)
    clicked = client.get(_path(click))
    assert clicked.status_code == 302
    destination = urlsplit(clicked["Location"])
    assert (destination.scheme, destination.netloc, destination.path) == ("https", "shop.acme.example", "/spring")
    assert "x=1" in destination.query and "tdt=" in destination.query
    assert Delivery.objects.get(pk=ada_row.pk).clicked_at is not None

    # RFC 8058: the List-Unsubscribe address takes a bare POST, no cookie, and sets Do-Not-Contact.
    assert to_ada["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = to_ada["List-Unsubscribe"].strip("<>")
    one_click = client.post(_path(unsubscribe), {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    assert [(row.channel, row.reason) for row in contacts_selectors.contact_dnc(ada.id)] == [("email", "unsubscribed")]
    assert contacts_selectors.contact_dnc(grace.id) == []

    counts = selectors.email_stats(email.pk).total
    seen = (counts.sent, counts.opens, counts.opened, counts.clicks, counts.clicked, counts.unsubscribed)
    assert seen == (2, 2, 1, 1, 1, 1)
