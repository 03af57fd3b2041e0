from django.urls import path

from tidings.contacts import duplicate_views, views

app_name = "contacts"

_c = "w/<slug:workspace_slug>/contacts/"
_one = _c + "<int:contact_id>/"
_co = "w/<slug:workspace_slug>/companies/"
_f = "w/<slug:workspace_slug>/settings/fields/"

urlpatterns = [
    path(_c, views.contact_list, name="list"),
    path(_c + "new/", views.contact_create, name="create"),
    path(_c + "bulk/", views.contact_bulk, name="bulk"),
    path(_c + "table/", views.contact_table_prefs, name="table_prefs"),
    path(_c + "views/", views.contact_view_save, name="view_save"),
    path(_c + "views/<int:view_id>/delete/", views.contact_view_delete, name="view_delete"),
    path(_c + "tags/suggest/", views.tag_suggest, name="tag_suggest"),
    path(_c + "countries/suggest/", views.country_suggest, name="country_suggest"),
    path(_co + "suggest/", views.company_suggest, name="company_suggest"),
    path(_c + "owners/suggest/", views.owner_suggest, name="owner_suggest"),
    path(_c + "duplicates/", duplicate_views.duplicate_list, name="duplicates"),
    path(_c + "export/<slug:fmt>/", views.contact_export, name="export"),
    path(_c + "import/", views.import_upload, name="import_upload"),
    path(_c + "imports/", views.import_list, name="import_list"),
    path(_c + "imports/policy/", views.import_policy, name="import_policy"),
    path(_c + "imports/<int:import_id>/", views.import_detail, name="import_detail"),
    path(_c + "imports/<int:import_id>/map/", views.import_map, name="import_map"),
    path(_c + "imports/<int:import_id>/errors.csv", views.import_errors, name="import_errors"),
    path(_c + "imports/<int:import_id>/resume/", views.import_resume, name="import_resume"),
    path(_c + "imports/<int:import_id>/cancel/", views.import_cancel, name="import_cancel"),
    path(_one, views.contact_detail, name="detail"),
    path(_one + "edit/", views.contact_edit, name="edit"),
    path(_one + "delete/", views.contact_delete, name="delete"),
    path(_one + "timeline/", views.contact_timeline, name="timeline"),
    path(_one + "tags/", views.contact_tags, name="tags"),
    path(_one + "notes/", views.note_add, name="note_add"),
    path(_one + "notes/<int:note_id>/edit/", views.note_edit, name="note_edit"),
    path(_one + "notes/<int:note_id>/delete/", views.note_delete, name="note_delete"),
    path(_one + "companies/", views.company_link, name="company_link"),
    path(_one + "companies/<int:company_id>/unlink/", views.company_unlink, name="company_unlink"),
    path(_one + "companies/<int:company_id>/primary/", views.company_primary, name="company_primary"),
    path(_one + "dnc/", views.dnc_add, name="dnc_add"),
    path(_one + "dnc/<slug:channel>/remove/", views.dnc_remove, name="dnc_remove"),
    path(_one + "merge/", views.contact_merge, name="merge"),
    path(_one + "merge/<int:other_id>/", duplicate_views.merge_preview, name="merge_preview"),
    path(_one + "not-duplicate/<int:other_id>/", duplicate_views.duplicate_dismiss, name="duplicate_dismiss"),
    path(_co, views.company_list, name="company_list"),
    path(_co + "new/", views.company_create, name="company_create"),
    path(_co + "<int:company_id>/", views.company_detail, name="company_detail"),
    path(_co + "<int:company_id>/edit/", views.company_edit, name="company_edit"),
    path(_co + "<int:company_id>/delete/", views.company_delete, name="company_delete"),
    path(_f, views.field_list, name="fields"),
    path(_f + "alias/", views.field_alias, name="field_alias"),
    path(_f + "<int:field_id>/", views.field_edit, name="field_edit"),
    path(_f + "<int:field_id>/label/", views.field_label, name="field_label"),
    path(_f + "<int:field_id>/move/", views.field_move, name="field_move"),
    path(_f + "<int:field_id>/archive/", views.field_archive, name="field_archive"),
    path(_f + "<int:field_id>/index/", views.field_index, name="field_index"),
    path(_f + "<int:field_id>/delete/", views.field_delete, name="field_delete"),
]
