"""Security headers Django's SecurityMiddleware does not set."""

from tidings.accounts.permissions import declared_access
from tidings.web import entry


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class WorkspaceMiddleware:
    """Take every /w/<workspace_slug>/... page through the entry pipeline's UI door (tidings.web.entry).

    The session names the principal; a workspace the user cannot enter answers 404, exactly like one
    that does not exist; the workspace's two-factor policy and the view's declared permission apply
    before the view runs, inside the workspace. Other pages pass through untouched.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.urls import Resolver404, resolve

        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        public_slug = match.kwargs.get(entry.PUBLIC_WORKSPACE_KWARG)
        if public_slug is not None:
            return entry.run(request, entry.PUBLIC_PAGE, access=declared_access(match.func), answer=_public_answer,
                             view=self.get_response, workspace_slug=public_slug)  # fmt: skip
        slug = match.kwargs.get("workspace_slug")
        if slug is None:
            return self.get_response(request)

        def answer(request, refusal):
            return _answer(request, refusal, slug)

        return entry.run(
            request,
            entry.UI,
            access=declared_access(match.func),
            answer=answer,
            view=self.get_response,
            workspace_slug=slug,
        )


def _public_answer(request, refusal):
    """Render a refusal of the public-page door: a plain 404 for an unknown workspace, 429 when rate-limited."""
    from django.http import HttpResponse

    if refusal.reason == "rate_limited":
        return HttpResponse("Too many requests.", status=429, content_type="text/plain; charset=utf-8")
    status = 404 if refusal.status in (401, 404) else refusal.status
    return HttpResponse("Not found." if status == 404 else "Refused.", status=status,
                        content_type="text/plain; charset=utf-8")  # fmt: skip


def _answer(request, refusal, slug):
    """Render a refusal of the UI door: the sign-in page, the two-factor page, or Django's 404 and 403."""
    from django.contrib.auth.views import redirect_to_login
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from django.shortcuts import redirect

    if refusal.reason == "no_credentials":
        return redirect_to_login(request.get_full_path())
    if refusal.reason == "two_factor_required":
        return redirect("accounts:two_factor_required", workspace_slug=slug)
    if refusal.status == 404:
        raise Http404("No such workspace.")
    raise PermissionDenied(refusal.message or "You may not open this page.")
