from django.urls import path

from tidings.emails import views

app_name = "emails"

_e = "w/<slug:workspace_slug>/emails/"
_one = _e + "<int:email_id>/"

urlpatterns = [
    path(_e, views.email_list, name="list"),
    path(_e + "new/", views.email_create, name="create"),
    path(_one, views.email_edit, name="edit"),
    path(_one + "builder/", views.email_builder, name="builder"),
    path(_one + "clone/", views.email_clone, name="clone"),
    path(_one + "delete/", views.email_delete, name="delete"),
    path(_one + "variants/", views.variant_create, name="variant_create"),
]
