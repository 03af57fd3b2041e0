from django.urls import path

from tidings.assets import public, views

app_name = "assets"

_s = "w/<slug:workspace_slug>/assets/"
_one = _s + "<int:asset_id>/"

urlpatterns = [
    path(_s, views.asset_list, name="list"),
    path(_s + "new/", views.asset_create, name="create"),
    path(_s + "settings/", views.asset_settings, name="settings"),
    path(_one, views.asset_detail, name="detail"),
    path(_one + "edit/", views.asset_edit, name="edit"),
    path(_one + "delete/", views.asset_delete, name="delete"),
    # Public (the entry pipeline's public-page door, by the kwarg's name): Mautic's download route.
    path("m/<slug:public_workspace>/asset/<int:asset_id>:<str:alias>", public.download, name="download"),
    path("m/<slug:public_workspace>/asset/<int:asset_id>", public.download, name="download_by_id"),
]
