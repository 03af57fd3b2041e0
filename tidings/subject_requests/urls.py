from django.urls import path

from tidings.subject_requests import public, views

app_name = "subject_requests"

_p = "w/<slug:workspace_slug>/privacy/requests/"
_one = _p + "<int:request_id>/"
# The public request form, the confirmation link and the access package: the workspace middleware takes
# these through the public-page door (kwarg public_workspace), as it does for asset downloads.
_public = "m/<slug:public_workspace>/privacy/"

urlpatterns = [
    path(_p, views.queue, name="queue"),
    path(_p + "record/", views.record, name="record"),
    path(_one, views.detail, name="detail"),
    path(_one + "act/", views.act, name="act"),
    path(_one + "package.json", views.package, name="package"),
    path(_public + "request", public.request_form, name="public_request"),
    path(_public + "verify/<int:request_id>/<str:code>", public.verify, name="public_verify"),
    path(_public + "package/<str:token>", public.package, name="public_package"),
]
