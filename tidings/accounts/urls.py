from django.contrib.auth import views as auth_views
from django.urls import path

from tidings.accounts import views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/security/", views.security, name="security"),
    path("staff/support/", views.staff_support, name="staff_support"),
    path("w/<slug:workspace_slug>/two-factor-required/", views.two_factor_required, name="two_factor_required"),
]
