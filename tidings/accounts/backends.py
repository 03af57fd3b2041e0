"""Sign in by email address, case-insensitively, and name the account django-axes counts failures against."""

from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        email = (username or kwargs.get("email") or "").strip().lower()
        return super().authenticate(request, username=email, password=password)


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
