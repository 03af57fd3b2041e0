"""Issue 14's "done when", through the real pieces: a form submission enters ada into a campaign, a delay
passes, the email reaches a real SMTP server on loopback (aiosmtpd), her click on its link takes the
decision's "yes" path, and she is tagged. Everything runs in the built-in database task worker: the
submission and the click wake the campaigns on commit, the periodic sweep brings the delay's end.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import get_resolver

from tidings.campaigns.tests.conftest import make_contact, make_email, system
from tidings.jobs.tests.worker_loop import run_worker_until
from tidings.tenancy.context import use_workspace

PERIOD = timedelta(seconds=1)


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_form_submission_delay_email_click_decision_and_tag(acme, smtp, client, settings, monkeypatch, capsys):
    from tidings.campaigns import tasks
    from tidings.campaigns.actions import campaign_create, campaign_publish
    from tidings.consent.actions import consent_record
    from tidings.contacts.selectors import contact_tags
    from tidings.forms import actions as forms
    from tidings.jobs.periodic import PeriodicJob

    settings.TIDINGS_FORMS_MIN_FILL_SECONDS = 0
    monkeypatch.setattr(tasks, "WAKE_DEBOUNCE", 0)
    sweep = PeriodicJob(name="campaigns-sweep", task=tasks.sweep_campaigns, every=PERIOD)
    monkeypatch.setattr("tidings.jobs.scheduler.PERIODIC_JOBS", {sweep.name: sweep})
    with use_workspace(acme):
        ada = make_contact({"email": "ada@analytical.example", "firstname": "Ada"})
        consent_record(purpose="tracking", given=True, method="form", contact_id=ada.id, principal=system())
        form = forms.form_create(name="Newsletter", published=True, principal=system(), fields=[
            {"kind": "email", "label": "Email", "alias": "email", "required": True, "maps_to": "email"}])  # fmt: skip
        welcome = make_email(name="Welcome", kind="template")
        campaign = campaign_create(name="Welcome journey", principal=system(), graph={
            "sources": [{"kind": "form", "form_id": form.pk}], "start": 1, "steps": [
                {"id": 1, "kind": "delay", "mode": "interval", "seconds": 1, "next": 2},
                {"id": 2, "kind": "send_email", "email_id": welcome.pk, "next": 3},
                {"id": 3, "kind": "decision", "event": "clicked_email", "email_id": welcome.pk,
                 "window_seconds": 3600, "yes": 4},
                {"id": 4, "kind": "add_tags", "tags": ["clicked-welcome"]},
            ]})  # fmt: skip
        campaign_publish(campaign.pk, principal=system())
        public = system()  # the form door's principal would do the same; the system holds forms:submit
        submitted = time.perf_counter()
        result = forms.form_submit(form.pk, {"email": ["ada@analytical.example"]},
                                   context=forms.SubmitContext(ip="203.0.113.9"), principal=public)  # fmt: skip
        assert result.accepted

    def entered() -> bool:
        from tidings.campaigns.models import Enrolment

        with use_workspace(acme):
            return Enrolment.objects.filter(campaign_id=campaign.pk, contact_id=ada.id).exists()

    # Timeouts bound a hang only: latency is printed, not asserted (a loaded machine would make it flaky).
    run_worker_until(entered, timeout=120)
    entry_latency = time.perf_counter() - submitted
    email_latency = run_worker_until(lambda: len(smtp.messages) == 1, timeout=120)
    (message,) = smtp.to("ada@analytical.example")
    html = message.get_body(("html",)).get_content()
    click = re.search(r'href="([^"]+/e/c/[^"]+)"', html).group(1)
    parts = urlsplit(click)
    # The first request of a process imports the URLconf (the API's schemas: seconds on a loaded machine);
    # the servers load it at start (wsgi.py, asgi.py), so the click below is timed as a warm process's.
    get_resolver().url_patterns  # noqa: B018 (loads it)
    clicked_at = time.perf_counter()
    assert client.get(parts.path + (f"?{parts.query}" if parts.query else "")).status_code == 302

    def tagged() -> bool:
        with use_workspace(acme):
            return contact_tags(ada.id) == ["clicked-welcome"]

    run_worker_until(tagged, timeout=120)
    with capsys.disabled():
        print(f"\nform -> entered {entry_latency:.2f}s; -> email (1 s delay) {email_latency:.2f}s more; "
              f"click -> tag {time.perf_counter() - clicked_at:.2f}s")  # fmt: skip
    assert len(smtp.messages) == 1
