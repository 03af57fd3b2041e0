from django.urls import path

from tidings.consent import views

app_name = "consent"

_c = "w/<slug:workspace_slug>/privacy/consent/"

urlpatterns = [
    path(_c, views.consent_settings, name="settings"),
    path(_c + "purposes/new/", views.purpose_create, name="purpose_create"),
    path(_c + "purposes/<int:purpose_id>/", views.purpose_edit, name="purpose_edit"),
    path(_c + "notices/publish/", views.notice_publish, name="notice_publish"),
]
