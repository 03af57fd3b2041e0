from django.urls import path

from tidings.campaigns import views

app_name = "campaigns"

_c = "w/<slug:workspace_slug>/campaigns/"
_one = _c + "<int:campaign_id>/"

urlpatterns = [
    path(_c, views.campaign_list, name="list"),
    path(_c + "new/", views.campaign_create, name="create"),
    path(_one, views.campaign_detail, name="detail"),
    path(_one + "rename/", views.campaign_rename, name="rename"),
    path(_one + "sources/", views.source_add, name="source_add"),
    path(_one + "sources/<int:index>/remove/", views.source_remove, name="source_remove"),
    path(_one + "entry/", views.entry_save, name="entry"),
    path(_one + "goals/", views.goal_add, name="goal_add"),
    path(_one + "goals/<int:index>/remove/", views.goal_remove, name="goal_remove"),
    path(_one + "steps/new/", views.step_add, name="step_add"),
    path(_one + "steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path(_one + "steps/<int:step_id>/remove/", views.step_remove, name="step_remove"),
    path(_one + "publish/", views.campaign_publish, name="publish"),
    path(_one + "unpublish/", views.campaign_unpublish, name="unpublish"),
    path(_one + "delete/", views.campaign_delete, name="delete"),
    path(_one + "contacts/<int:contact_id>/", views.journey, name="journey"),
]
