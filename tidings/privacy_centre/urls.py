from django.urls import path

from tidings.privacy_centre import views

app_name = "privacy_centre"

_p = "w/<slug:workspace_slug>/privacy/"

urlpatterns = [
    path(_p + "retention/", views.retention, name="retention"),
    path(_p + "retention/run/", views.retention_run, name="retention_run"),
    path(_p + "records/", views.records, name="records"),
    path(_p + "records.json", views.records_json, name="records_json"),
    path(_p + "records.csv", views.records_csv, name="records_csv"),
    path(_p + "recipients/", views.recipients, name="recipients"),
    path(_p + "recipients/new/", views.recipient_create, name="recipient_create"),
    path(_p + "recipients/<int:recipient_id>/", views.recipient_edit, name="recipient_edit"),
    path(_p + "recipients/<int:recipient_id>/delete/", views.recipient_delete, name="recipient_delete"),
]
