from django.urls import path

from tidings.pages import views

app_name = "pages"

_p = "w/<slug:workspace_slug>/pages/"
_one = _p + "<int:page_id>/"

urlpatterns = [
    path(_p, views.page_list, name="list"),
    path(_p + "new/", views.page_create, name="create"),
    path(_one, views.page_edit, name="edit"),
    path(_one + "delete/", views.page_delete, name="delete"),
]
