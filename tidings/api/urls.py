from django.urls import path

from tidings.api import api as native_api
from tidings.api import oauth, views

app_name = "api"

urlpatterns = [
    path("api/v1/", native_api.urlpatterns()),
    path("oauth/v2/token", oauth.token, name="oauth_token"),
    path("oauth/v2/authorize", oauth.authorize, name="oauth_authorize"),
    path("w/<slug:workspace_slug>/settings/api-tokens/", views.api_tokens, name="tokens"),
    path(
        "w/<slug:workspace_slug>/settings/api-tokens/<int:token_id>/revoke/",
        views.api_token_revoke,
        name="token_revoke",
    ),
    path("w/<slug:workspace_slug>/settings/oauth-apps/", views.oauth_apps, name="oauth_apps"),
    path(
        "w/<slug:workspace_slug>/settings/oauth-apps/<int:binding_id>/delete/",
        views.oauth_app_delete,
        name="oauth_app_delete",
    ),
]
