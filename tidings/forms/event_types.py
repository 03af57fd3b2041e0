"""The event types forms writes on a contact's timeline (codes 30-39): a form submitted, a submission confirmed."""

from __future__ import annotations

from tidings.events.registry import INT, IP, Retention, register_event_type, reserve_codes

FORM_SUBMITTED = 30
FORM_CONFIRMED = 31
FORMS_CODES = range(30, 40)


def register_forms_event_types() -> None:
    """Reserve forms' codes and declare its types (idempotent: ready() may run twice in tests)."""
    reserve_codes("forms", FORMS_CODES)
    # form_id, submission_id: the form and the stored submission; page: a landing page id (issue 11); ip: network.
    register_event_type("forms", FORM_SUBMITTED, "form.submitted", form_id=INT, page=INT, submission_id=INT, ip=IP)
    # The double opt-in link was followed: proof kept as long as the contact, like consent decisions.
    register_event_type("forms", FORM_CONFIRMED, "form.confirmed", retention=Retention.RECORD, form_id=INT,
                        submission_id=INT)  # fmt: skip
