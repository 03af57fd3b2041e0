from django.urls import path

from tidings.emails import views_send

app_name = "emails_send"

urlpatterns = [
    path("w/<slug:workspace_slug>/emails/<int:email_id>/send/", views_send.send_page, name="send_page"),
    path("w/<slug:workspace_slug>/emails/<int:email_id>/send/start/", views_send.send_start, name="send_start"),
    path(
        "w/<slug:workspace_slug>/emails/sends/<int:send_id>/<slug:operation>/",
        views_send.send_control,
        name="send_control",
    ),  # fmt: skip
    path("w/<slug:workspace_slug>/settings/sending/", views_send.sending_settings, name="sending_settings"),
]
