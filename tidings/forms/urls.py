from django.urls import path

from tidings.forms import views

app_name = "forms"

_f = "w/<slug:workspace_slug>/forms/"
_one = _f + "<int:form_id>/"

urlpatterns = [
    path(_f, views.form_list, name="list"),
    path(_f + "new/", views.form_create, name="create"),
    path(_one, views.form_detail, name="detail"),
    path(_one + "settings/", views.form_settings, name="settings"),
    path(_one + "fields/add/", views.field_add, name="field_add"),
    path(_one + "fields/<int:field_id>/", views.field_edit, name="field_edit"),
    path(_one + "fields/<int:field_id>/move/", views.field_move, name="field_move"),
    path(_one + "fields/<int:field_id>/remove/", views.field_remove, name="field_remove"),
    path(_one + "actions/add/", views.action_add, name="action_add"),
    path(_one + "actions/<int:index>/remove/", views.action_remove, name="action_remove"),
    path(_one + "delete/", views.form_delete, name="delete"),
    path(_one + "results/", views.form_results, name="results"),
    path(_one + "results/export.csv", views.form_results_export, name="results_export"),
]
