from django.urls import path

from tidings.tracking import views

app_name = "tracking"

_s = "w/<slug:workspace_slug>/settings/sites/"
_one = _s + "<int:site_id>/"

urlpatterns = [
    path(_s, views.site_list, name="site_list"),
    path(_s + "new/", views.site_create, name="site_create"),
    path(_one, views.site_detail, name="site_detail"),
    path(_one + "edit/", views.site_edit, name="site_edit"),
    path(_one + "rotate/", views.site_rotate, name="site_rotate"),
    path(_one + "delete/", views.site_delete, name="site_delete"),
]
