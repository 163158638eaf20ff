"""Project URLs: each app's own urls, plus Django's auth and admin."""

from django.contrib import admin
from django.urls import include, path

from . import views

account_patterns = [
    path("signup/", views.signup_clinician, name="signup"),
    path("signup/patient/", views.signup_patient, name="signup_patient"),
    path("profile/", views.profile, name="profile"),
    path("profile/verify/", views.request_verification, name="request_verification"),
    path("profile/redeem/", views.redeem_code, name="redeem_code"),
    path(
        "email/resend/",
        views.email_confirmation_resend,
        name="email_confirmation_resend",
    ),
    path("email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("", include("django.contrib.auth.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("workspace.mail.urls")),
    path("accounts/", include(account_patterns)),
    path("workspaces/", views.workspace_list, name="workspace_list"),
    path("workspaces/<slug:slug>/", views.workspace_detail, name="workspace_detail"),
    path(
        "workspaces/<slug:slug>/members/<int:member_id>/remove/",
        views.workspace_member_remove,
        name="workspace_member_remove",
    ),
    path(
        "invitations/<str:token>/",
        views.workspace_invitation,
        name="workspace_invitation",
    ),
    path("patients/", views.patient_list, name="patient_list"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("media/", include("media_handling.urls")),
    path("", include("realtime.urls")),
    path("", include("cases.urls")),
    path("", include("diagnoses.urls")),
    path("", include("consults.urls")),
    path("", include("portal.urls")),
]

handler403 = "workspace.errors.permission_denied"
