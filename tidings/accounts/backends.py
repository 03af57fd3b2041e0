"""Sign in by email address, case-insensitively, and name the account django-axes counts failures against."""

from django.contrib.auth.backends import ModelBackend

from tidings.accounts.lockout import forget_failures


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        """Return the user whose email and password match; forget the failures of that account and address.

        Resetting here, not only on login(), makes a right password over API Basic auth (which never
        calls login()) end the count too: otherwise an account used by a healthy integration and a stale
        one would still be paused by the stale one's failures.
        """
        email = (username or kwargs.get("email") or "").strip().lower()
        user = super().authenticate(request, username=email, password=password)
        if user is not None and request is not None:
            forget_failures(request, email)
        return user


def axes_username(request, credentials=None) -> str | None:
    """Return the address a sign-in attempt is for, normalised as EmailBackend does.

    django-axes would otherwise look for a credential named after USERNAME_FIELD ("email"), find none
    in the form's "username", and count every failure from an address against one anonymous account;
    lowercasing also stops "Alice@" and "alice@" from each getting their own five attempts.
    """
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("username") or data.get("email")
    value = (value or "").strip().lower()
    return value or None
