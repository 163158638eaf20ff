from django.urls import path

from . import views

urlpatterns = [
    path("accounts/notifications/", views.email_preferences, name="email_preferences"),
    path(
        "unsubscribe/<str:token>/",
        views.email_unsubscribe_view,
        name="email_unsubscribe",
    ),
]
