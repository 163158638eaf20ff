"""Upload-session URLs under /media/ (serving media is the caller's, see cases)."""

from django.urls import path

from . import views

urlpatterns = [
    path("uploads/<uuid:token>/", views.upload_status, name="media_upload_status"),
    path(
        "uploads/<uuid:token>/parts/<int:number>/",
        views.upload_part,
        name="media_upload_part",
    ),
    path("uploads/<uuid:token>/sign/", views.upload_sign, name="media_upload_sign"),
    path("uploads/<uuid:token>/abort/", views.upload_abort, name="media_upload_abort"),
]
