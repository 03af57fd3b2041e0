import pytest


@pytest.fixture
def mail_after_commit(in_acme, monkeypatch, mailoutbox):
    """Send the actions' after-commit mail at once; yield the outbox.

    Tests run inside one transaction that never commits, so on_commit callbacks would never run; the
    rollback path (a failed action mails nobody) is the plain on_commit behaviour and is not replayed here.
    """
    from tidings.subject_requests import actions

    monkeypatch.setattr(actions, "_on_commit", lambda send: send())
    yield mailoutbox
