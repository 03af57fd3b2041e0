"""Mautic-compatible routes, each under the bare base (/api/...) and a workspace's base (/m/<slug>/api/...).

Later domains add ``path("contacts/<int:contact_id>", view, name="contact")`` to ``api_urlpatterns``
(before the catch-all), with a view decorated by ``tidings.mautic_compat.decorators.mautic_api``,
and a case probing the /m/<slug>/ form in their tests/cross_workspace.py.
"""

from django.urls import include, path, re_path

from tidings.accounts.permissions import declare_access, declared_access
from tidings.api import oauth
from tidings.mautic_compat import (
    assets,
    campaigns,
    companies,
    contacts,
    emails,
    emails_reply,
    emails_send,
    fields,
    forms,
    notes,
    pages,
    public_forms,
    segments,
    stages,
    tags,
    views,
)
from tidings.tenancy.selectors import workspace_by_slug

app_name = "mautic_compat"


def _workspace_oauth(view):
    """Run an OAuth2 view for the workspace named in the Mautic base URL (404 when none)."""

    def wrapped(request, mautic_workspace):
        from django.http import Http404

        workspace = workspace_by_slug(mautic_workspace)
        if workspace is None:
            raise Http404("No such workspace.")
        return view(request, workspace=workspace)

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    access = declared_access(view)
    return declare_access(wrapped, access) if access is not None else wrapped


api_urlpatterns = [
    path("users/self", views.users_self, name="users_self"),
    *contacts.urlpatterns,
    *notes.urlpatterns,
    *companies.urlpatterns,
    *fields.urlpatterns,
    *tags.urlpatterns,
    *stages.urlpatterns,
    *segments.urlpatterns,
    *campaigns.urlpatterns,
    *forms.urlpatterns,
    *assets.urlpatterns,
    *pages.urlpatterns,
    *emails.urlpatterns,
    *emails_send.urlpatterns,
    *emails_reply.urlpatterns,
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path("m/<slug:mautic_workspace>/api/", include(api_urlpatterns)),
    path("m/<slug:mautic_workspace>/oauth/v2/token", _workspace_oauth(oauth.token), name="oauth_token"),
    path("m/<slug:mautic_workspace>/oauth/v2/authorize", _workspace_oauth(oauth.authorize), name="oauth_authorize"),
    # Forms on customers' pages (public_forms: the public form door).
    path("m/<slug:mautic_workspace>/form/submit", public_forms.submit, name="form_submit"),
    path("m/<slug:mautic_workspace>/form/submit/ajax", public_forms.submit, name="form_submit_ajax"),
    path("m/<slug:mautic_workspace>/form/generate.js", public_forms.generate_js, name="form_generate_js"),
    path("m/<slug:mautic_workspace>/form/confirm/<str:token>", public_forms.confirm, name="form_confirm"),
    path("m/<slug:mautic_workspace>/form/<int:form_id>", public_forms.standalone, name="form_standalone"),
]
