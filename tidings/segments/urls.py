from django.urls import path

from tidings.segments import views

app_name = "segments"

_s = "w/<slug:workspace_slug>/segments/"
_one = _s + "<int:segment_id>/"

urlpatterns = [
    path(_s, views.segment_list, name="list"),
    path(_s + "new/", views.segment_create, name="create"),
    path(_s + "preview/", views.segment_preview, name="preview"),
    path(_s + "members/add/", views.members_add_chosen, name="members_add_chosen"),
    path(_one, views.segment_detail, name="detail"),
    path(_one + "edit/", views.segment_edit, name="edit"),
    path(_one + "delete/", views.segment_delete, name="delete"),
    path(_one + "rebuild/", views.segment_rebuild, name="rebuild"),
    path(_one + "members/add/", views.members_add, name="members_add"),
    path(_one + "members/remove/", views.members_remove, name="members_remove"),
    path(_one + "members/reset/", views.members_reset, name="members_reset"),
]
