"""Routes of emails' feedback pages (tidings.emails.views_feedback): an email's stats, the suppression list."""

from django.urls import path

from tidings.emails import views_feedback

app_name = "emails_feedback"

_s = "w/<slug:workspace_slug>/emails/"

urlpatterns = [
    path(_s + "<int:email_id>/stats/", views_feedback.email_stats, name="stats"),
    path(_s + "suppressions/", views_feedback.suppression_list, name="suppressions"),
    path(
        _s + "suppressions/<int:suppression_id>/remove/", views_feedback.suppression_remove, name="suppression_remove"
    ),
]
