from django.urls import path

from tidings.policies import views

app_name = "policies"

urlpatterns = [
    path("staff/policies/", views.staff_policies, name="staff"),
    path("w/<slug:workspace_slug>/policies/", views.policies, name="list"),
    path("w/<slug:workspace_slug>/policies/<slug:kind>/<int:version>/", views.policy_detail, name="detail"),
    path(
        "w/<slug:workspace_slug>/policies/<slug:kind>/<int:version>/acknowledge/",
        views.policy_acknowledge,
        name="acknowledge",
    ),  # fmt: skip
]
