from django.urls import path

from tidings.contacts import duplicate_views
from tidings.contacts.views import companies, contact, fields, importing, lists, stages

app_name = "contacts"

_c = "w/<slug:workspace_slug>/contacts/"
_one = _c + "<int:contact_id>/"
_co = "w/<slug:workspace_slug>/companies/"
_f = "w/<slug:workspace_slug>/settings/fields/"
_s = "w/<slug:workspace_slug>/settings/stages/"

urlpatterns = [
    path(_c, lists.contact_list, name="list"),
    path(_c + "new/", contact.contact_create, name="create"),
    path(_c + "bulk/", lists.contact_bulk, name="bulk"),
    path(_c + "table/", lists.contact_table_prefs, name="table_prefs"),
    path(_c + "views/", lists.contact_view_save, name="view_save"),
    path(_c + "views/<int:view_id>/delete/", lists.contact_view_delete, name="view_delete"),
    path(_c + "tags/suggest/", lists.tag_suggest, name="tag_suggest"),
    path(_c + "countries/suggest/", lists.country_suggest, name="country_suggest"),
    path(_co + "suggest/", lists.company_suggest, name="company_suggest"),
    path(_c + "owners/suggest/", lists.owner_suggest, name="owner_suggest"),
    path(_c + "duplicates/", duplicate_views.duplicate_list, name="duplicates"),
    path(_c + "export/<slug:fmt>/", lists.contact_export, name="export"),
    path(_c + "import/", importing.import_upload, name="import_upload"),
    path(_c + "imports/", importing.import_list, name="import_list"),
    path(_c + "imports/policy/", importing.import_policy, name="import_policy"),
    path(_c + "imports/<int:import_id>/", importing.import_detail, name="import_detail"),
    path(_c + "imports/<int:import_id>/map/", importing.import_map, name="import_map"),
    path(_c + "imports/<int:import_id>/errors.csv", importing.import_errors, name="import_errors"),
    path(_c + "imports/<int:import_id>/resume/", importing.import_resume, name="import_resume"),
    path(_c + "imports/<int:import_id>/cancel/", importing.import_cancel, name="import_cancel"),
    path(_one, contact.contact_detail, name="detail"),
    path(_one + "edit/", contact.contact_edit, name="edit"),
    path(_one + "delete/", contact.contact_delete, name="delete"),
    path(_one + "timeline/", contact.contact_timeline, name="timeline"),
    path(_one + "tags/", contact.contact_tags, name="tags"),
    path(_one + "notes/", contact.note_add, name="note_add"),
    path(_one + "notes/<int:note_id>/edit/", contact.note_edit, name="note_edit"),
    path(_one + "notes/<int:note_id>/delete/", contact.note_delete, name="note_delete"),
    path(_one + "companies/", contact.company_link, name="company_link"),
    path(_one + "companies/<int:company_id>/unlink/", contact.company_unlink, name="company_unlink"),
    path(_one + "companies/<int:company_id>/primary/", contact.company_primary, name="company_primary"),
    path(_one + "dnc/", contact.dnc_add, name="dnc_add"),
    path(_one + "dnc/<slug:channel>/remove/", contact.dnc_remove, name="dnc_remove"),
    path(_one + "merge/", contact.contact_merge, name="merge"),
    path(_one + "merge/<int:other_id>/", duplicate_views.merge_preview, name="merge_preview"),
    path(_one + "not-duplicate/<int:other_id>/", duplicate_views.duplicate_dismiss, name="duplicate_dismiss"),
    path(_co, companies.company_list, name="company_list"),
    path(_co + "new/", companies.company_create, name="company_create"),
    path(_co + "<int:company_id>/", companies.company_detail, name="company_detail"),
    path(_co + "<int:company_id>/edit/", companies.company_edit, name="company_edit"),
    path(_co + "<int:company_id>/delete/", companies.company_delete, name="company_delete"),
    path(_f, fields.field_list, name="fields"),
    path(_f + "alias/", fields.field_alias, name="field_alias"),
    path(_f + "<int:field_id>/", fields.field_edit, name="field_edit"),
    path(_f + "<int:field_id>/label/", fields.field_label, name="field_label"),
    path(_f + "<int:field_id>/move/", fields.field_move, name="field_move"),
    path(_f + "<int:field_id>/archive/", fields.field_archive, name="field_archive"),
    path(_f + "<int:field_id>/index/", fields.field_index, name="field_index"),
    path(_f + "<int:field_id>/delete/", fields.field_delete, name="field_delete"),
    path(_s, stages.stage_list, name="stage_list"),
    path(_s + "new/", stages.stage_create, name="stage_create"),
    path(_s + "<int:stage_id>/edit/", stages.stage_edit, name="stage_edit"),
    path(_s + "<int:stage_id>/delete/", stages.stage_delete, name="stage_delete"),
]
