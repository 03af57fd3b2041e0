"""Confirmation of destructive actions: the server half of the confirm component.

A form rendered with web/_confirm_form.html is confirmed in a <dialog> by kit.js, which posts
confirmed=1. Without JavaScript the same POST arrives without it, and the view answers with a
confirmation page instead of acting::

    page = confirmation_required(request, title="Revoke this token?", message="...", label="Revoke", back=url)
    if page:
        return page
"""

from __future__ import annotations

from django.shortcuts import render


def confirmation_required(request, *, title: str, message: str, label: str, back: str):
    """Return a confirmation page when the POST is not confirmed yet, or None to go ahead."""
    if request.POST.get("confirmed") == "1":
        return None
    skip = ("confirmed", "csrfmiddlewaretoken")
    carried = [(name, value) for name, value in request.POST.items() if name not in skip]
    context = {"title": title, "message": message, "label": label, "back": back, "carried": carried}
    return render(request, "web/confirm.html", context)
