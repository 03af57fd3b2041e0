from django.contrib.auth import views as auth_views
from django.urls import path

from tidings.accounts import settings_views, views
from tidings.accounts.decorators import public, signed_in

app_name = "accounts"

_settings = "w/<slug:workspace_slug>/settings/"

urlpatterns = [
    path("accounts/login/", public(views.SignInView.as_view()), name="login"),
    path("accounts/login/verify/", views.login_verify, name="login_verify"),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/password/", signed_in(views.PasswordChangeView.as_view()), name="password_change"),
    path("accounts/password/reset/", public(views.PasswordResetView.as_view()), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        public(auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        public(views.PasswordResetConfirmView.as_view()),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        public(auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html")),
        name="password_reset_complete",
    ),
    path("accounts/security/", views.security, name="security"),
    path("accounts/security/two-factor/start/", views.two_factor_start, name="two_factor_start"),
    path("accounts/security/two-factor/confirm/", views.two_factor_confirm, name="two_factor_confirm"),
    path("accounts/security/two-factor/backup-codes/", views.backup_codes, name="backup_codes"),
    path("accounts/security/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("accounts/invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("staff/support/", views.staff_support, name="staff_support"),
    path("w/<slug:workspace_slug>/two-factor-required/", views.two_factor_required, name="two_factor_required"),
    path(_settings + "members/", settings_views.members, name="settings_members"),
    path(_settings + "members/invite/", settings_views.member_invite, name="member_invite"),
    path(_settings + "members/<int:membership_id>/role/", settings_views.member_role, name="member_role"),
    path(_settings + "members/<int:membership_id>/remove/", settings_views.member_remove, name="member_remove"),
    path(_settings + "members/<int:membership_id>/unlock/", settings_views.member_unlock, name="member_unlock"),
    path(
        _settings + "invitations/<int:invitation_id>/revoke/",
        settings_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(_settings + "roles/", settings_views.roles, name="settings_roles"),
    path(_settings + "workspace/", settings_views.workspace_settings, name="settings_workspace"),
    path(_settings + "support/", settings_views.support, name="settings_support"),
    path(_settings + "support/<int:grant_id>/approve/", settings_views.support_approve, name="support_approve"),
    path(_settings + "support/<int:grant_id>/decline/", settings_views.support_decline, name="support_decline"),
    path(_settings + "support/<int:grant_id>/revoke/", settings_views.support_revoke, name="support_revoke"),
]
