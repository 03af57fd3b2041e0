"""The audit log page's URL, under the "audit" namespace it has always had."""

from django.urls import path

from tidings.web import audit_views as views

app_name = "audit"

urlpatterns = [
    path("w/<slug:workspace_slug>/settings/audit/", views.audit_log, name="log"),
    path("w/<slug:workspace_slug>/settings/audit/<int:seq>/", views.audit_entry_detail, name="entry"),
]
