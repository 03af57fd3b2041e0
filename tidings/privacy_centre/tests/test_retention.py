"""Retention: rules with defaults, a frozen clock deciding the cut-off, batches, aggregates and the audit chain."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidings.audit.models import AuditEntry
from tidings.audit.selectors import verify_chains
from tidings.events.models import Event, Visitor
from tidings.privacy.retention import DataClass, retention_hooks
from tidings.privacy_centre import actions, selectors
from tidings.privacy_centre.models import RetentionAggregate, RetentionRule
from tidings.tests.principals import system

UTC = datetime.UTC
NOW = datetime.datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
PAGE_HIT, FORM_SUBMITTED, CONSENT_GIVEN = "page.hit", "form.submitted", "consent.given"


def _code(name: str) -> int:
    from tidings.events.registry import code_for

    return code_for(name)


def _event(name: str, at: datetime.datetime, *, contact_id=None, visitor_id=None, **data) -> Event:
    return Event.objects.create(type=_code(name), at=at, contact_id=contact_id, visitor_id=visitor_id, data=data)


def _rule(data_class: str) -> selectors.RuleView:
    return next(rule for rule in selectors.retention_rules() if rule.data_class == data_class)


def test_every_class_has_a_sane_default_and_the_audit_log_is_kept_without_limit(in_acme):
    rules = {rule.data_class: rule for rule in selectors.retention_rules()}
    assert list(rules) == list(DataClass.values)
    assert rules["tracking_events"].days == 396 and rules["tracking_events"].is_default
    assert rules["inactive_contacts"].days is None and not rules["inactive_contacts"].enforced
    assert rules["audit_log"].days is None and "hash chain" in rules["audit_log"].fixed_reason


def test_every_class_but_the_audit_log_has_a_registered_store():
    for data_class in DataClass:
        hooks = retention_hooks(data_class)
        assert bool(hooks) == (data_class != DataClass.AUDIT_LOG), data_class
        assert all(hook.aggregates for hook in hooks)


def test_setting_a_period_is_audited_and_the_audit_log_refuses_one(in_acme):
    actions.retention_rule_set("tracking_events", "30", principal=system())
    assert _rule("tracking_events").days == 30 and not _rule("tracking_events").is_default
    entry = AuditEntry.objects.filter(workspace_id=in_acme.id, action="privacy.retention_rule_set").first()
    assert entry.data == {"class": "tracking_events", "days": 30, "before": None}
    actions.retention_rule_set("tracking_events", None, principal=system())
    assert _rule("tracking_events").days is None
    with pytest.raises(ValidationError):
        actions.retention_rule_set("audit_log", 30, principal=system())
    assert not RetentionRule.objects.filter(data_class="audit_log").exists()


def test_a_marketer_cannot_change_retention(in_acme, make_user):
    from tidings.accounts.actions import membership_create
    from tidings.accounts.selectors import principal_for_user

    mia = make_user("mia@acme.example")
    membership_create(workspace=in_acme, user=mia, role="marketer", principal=system())
    with pytest.raises(PermissionDenied):
        actions.retention_rule_set("tracking_events", 30, principal=principal_for_user(mia, in_acme))
    with pytest.raises(PermissionDenied):
        actions.retention_enforce(principal=principal_for_user(mia, in_acme))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data_class=st.one_of(st.sampled_from(DataClass.values), st.text(max_size=20), st.none(), st.integers()),
    days=st.one_of(st.none(), st.integers(), st.text(max_size=12), st.booleans(), st.floats(), st.lists(st.integers())),
)
def test_any_input_is_saved_or_refused_with_a_validation_error(in_acme, data_class, days):
    try:
        rule = actions.retention_rule_set(data_class, days, principal=system())
    except ValidationError as error:
        assert "\x00" not in str(error)
    else:
        assert rule.days is None or 1 <= rule.days <= 36_500


def test_with_a_frozen_clock_the_cutoff_is_exactly_the_period_before_now(in_acme, ada):
    actions.retention_rule_set("tracking_events", 30, principal=system())
    cutoff = NOW - datetime.timedelta(days=30)
    just_before = _event(PAGE_HIT, cutoff - datetime.timedelta(microseconds=1), contact_id=ada.id)
    at_the_cutoff = _event(PAGE_HIT, cutoff, contact_id=ada.id)
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system())
    assert done["tracking_events"] == 1
    assert not Event.objects.filter(pk=just_before.pk).exists()
    assert Event.objects.filter(pk=at_the_cutoff.pk).exists()


def test_purge_goes_in_batches_keeps_daily_counts_and_leaves_a_valid_chain(in_acme, ada):
    actions.retention_rule_set("tracking_events", 30, principal=system())
    old_day = NOW - datetime.timedelta(days=40)
    for hour in range(5):
        _event(PAGE_HIT, old_day + datetime.timedelta(hours=hour), contact_id=ada.id)
    _event(PAGE_HIT, old_day + datetime.timedelta(days=1), contact_id=ada.id)
    recent = _event(PAGE_HIT, NOW - datetime.timedelta(days=1), contact_id=ada.id)
    consent = _event(CONSENT_GIVEN, old_day, contact_id=ada.id, purpose="tracking")  # proof, never purged
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system(), batch_size=2)
    assert done["tracking_events"] == 6
    assert set(Event.objects.values_list("pk", flat=True)) >= {recent.pk, consent.pk}
    assert Event.objects.filter(type=_code(PAGE_HIT)).count() == 1
    kept = {(row.day, row.kind): row.count for row in RetentionAggregate.objects.filter(data_class="tracking_events")}
    assert kept == {(old_day.date(), PAGE_HIT): 5, (old_day.date() + datetime.timedelta(days=1), PAGE_HIT): 1}
    entry = AuditEntry.objects.filter(workspace_id=in_acme.id, action="privacy.retention_enforced",
                                      target_id="tracking_events").get()  # fmt: skip
    assert entry.data["deleted"] == 6 and entry.data["batches"] == 3 and entry.data["days"] == 30
    assert entry.data["cutoff"] == (NOW - datetime.timedelta(days=30)).isoformat()
    assert list(verify_chains()) == []


def test_a_second_run_adds_to_the_counts_kept(in_acme, ada):
    actions.retention_rule_set("tracking_events", 30, principal=system())
    day = NOW - datetime.timedelta(days=60)
    _event(PAGE_HIT, day, contact_id=ada.id)
    with freeze_time(NOW):
        actions.retention_enforce(principal=system())
    _event(PAGE_HIT, day, contact_id=ada.id)
    with freeze_time(NOW):
        actions.retention_enforce(principal=system())
    assert RetentionAggregate.objects.get(data_class="tracking_events", kind=PAGE_HIT).count == 2


def test_a_class_kept_without_limit_is_left_alone(in_acme, ada):
    actions.retention_rule_set("tracking_events", None, principal=system())
    _event(PAGE_HIT, NOW - datetime.timedelta(days=3000), contact_id=ada.id)
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system())
    assert "tracking_events" not in done
    assert Event.objects.filter(type=_code(PAGE_HIT)).count() == 1


def test_anonymous_visitors_go_with_their_events_identified_and_active_ones_stay(in_acme, ada):
    from tidings.events.actions import visitor_create, visitor_identify

    actions.retention_rule_set("anonymous_visitors", 30, principal=system())
    actions.retention_rule_set("tracking_events", None, principal=system())
    long_ago = NOW - datetime.timedelta(days=100)
    with freeze_time(long_ago):
        stale, active, known = (visitor_create(principal=system()) for _ in range(3))
    visitor_identify(known.pk, ada.id, principal=system())
    _event(PAGE_HIT, long_ago, visitor_id=stale.pk)
    _event(PAGE_HIT, NOW - datetime.timedelta(days=2), visitor_id=active.pk)
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system())
    assert done["anonymous_visitors"] == 1
    assert set(Visitor.objects.values_list("pk", flat=True)) == {active.pk, known.pk}
    assert not Event.objects.filter(visitor_id=stale.pk).exists()
    assert RetentionAggregate.objects.get(data_class="anonymous_visitors").kind == "visitor"


def test_an_anonymous_visitors_consent_records_go_with_it_and_a_contacts_stay(in_acme, ada):
    from tidings.consent.actions import consent_record
    from tidings.consent.models import ConsentRecord
    from tidings.events.actions import visitor_create, visitor_identify

    actions.retention_rule_set("anonymous_visitors", 30, principal=system())
    long_ago = NOW - datetime.timedelta(days=100)
    with freeze_time(long_ago):
        stale, known = (visitor_create(principal=system()) for _ in range(2))
        for visitor in (stale, known):
            consent_record(purpose="tracking", given=True, method="tracker", visitor_id=visitor.pk,
                           ip="203.0.113.9", principal=system())  # fmt: skip
        consent_record(purpose="tracking", given=False, method="tracker", visitor_id=stale.pk, principal=system())
    visitor_identify(known.pk, ada.id, principal=system())
    ConsentRecord.objects.create(purpose_id=ConsentRecord.objects.first().purpose_id, given=True, method="tracker",
                                 visitor_id=987654, ip_network="198.51.100.0")  # a visitor deleted earlier  # fmt: skip
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system())
    assert done["anonymous_visitors"] == 1 + 3
    assert list(ConsentRecord.objects.values_list("visitor_id", flat=True)) == [known.pk]
    kinds = Counter()
    for kind, count in RetentionAggregate.objects.filter(data_class="anonymous_visitors").values_list("kind", "count"):
        kinds[kind] += count
    assert kinds == {"visitor": 1, "consent_given": 2, "consent_withdrawn": 1}
    entry = AuditEntry.objects.filter(action="privacy.retention_enforced", target_id="anonymous_visitors").get()
    assert entry.data["stores"] == {"consent.visitor": 3, "events.visitor": 1}


def test_old_form_submissions_go_and_their_contact_stays(in_acme, ada):
    from tidings.forms.models import Submission

    actions.retention_rule_set("form_submissions", 365, principal=system())
    old = Submission.objects.create(form_id=7, contact_id=ada.id, data_enc=b"sealed",
                                    submitted_at=NOW - datetime.timedelta(days=400))  # fmt: skip
    recent = Submission.objects.create(form_id=7, contact_id=ada.id, data_enc=b"sealed",
                                       submitted_at=NOW - datetime.timedelta(days=10))  # fmt: skip
    with freeze_time(NOW):
        done = actions.retention_enforce(principal=system())
    assert done["form_submissions"] == 1
    assert list(Submission.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not Submission.objects.filter(pk=old.pk).exists()
    assert RetentionAggregate.objects.get(data_class="form_submissions").kind == "form:7"
    from tidings.contacts.models import Contact

    assert Contact.objects.filter(pk=ada.id).exists()


def test_inactive_contacts_are_erased_when_the_workspace_sets_a_period(in_acme, ada, grace):
    from tidings.contacts.models import Contact
    from tidings.privacy.models import ContactKey

    Contact.objects.filter(pk=ada.id).update(last_active=NOW - datetime.timedelta(days=2000))
    Contact.objects.filter(pk=grace.id).update(last_active=NOW - datetime.timedelta(days=3))
    with freeze_time(NOW):
        assert "inactive_contacts" not in actions.retention_enforce(principal=system())  # off by default
        actions.retention_rule_set("inactive_contacts", 1095, principal=system())
        done = actions.retention_enforce(principal=system(), batch_size=1)
    assert done["inactive_contacts"] == 1
    assert list(Contact.objects.values_list("pk", flat=True)) == [grace.id]
    assert not ContactKey.objects.filter(contact_id=ada.id).exists()  # shredded, as an operator's deletion
    assert list(verify_chains()) == []


def test_the_daily_job_runs_every_workspace_as_the_system(acme, globex, django_capture_on_commit_callbacks):
    from tidings.privacy_centre.tasks import enforce_retention_everywhere, enforce_workspace_retention
    from tidings.tenancy.context import use_workspace

    assert enforce_retention_everywhere.call() >= 2
    with use_workspace(acme):
        actions.retention_rule_set("tracking_events", 30, principal=system())
        _event(PAGE_HIT, NOW - datetime.timedelta(days=90), visitor_id=1)
    with freeze_time(NOW):
        result = enforce_workspace_retention.call(workspace_id=acme.id)
    assert result["tracking_events"] == 1
    with use_workspace(acme):
        entry = AuditEntry.objects.filter(workspace_id=acme.id, action="privacy.retention_enforced").first()
        assert entry.actor_type == "system"
