"""Discussion pages (the no-JavaScript fallback); live traffic is in routing.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("discussion/viewer.css", views.viewer_css, name="discussion_viewer_css"),
    path("cases/<int:case_id>/discussion/", views.discussion, name="discussion"),
    path(
        "cases/<int:case_id>/discussion/<int:thread_id>/",
        views.thread_page,
        name="discussion_thread",
    ),
    path(
        "cases/<int:case_id>/discussion/topics/",
        views.thread_create,
        name="discussion_thread_create",
    ),
    path(
        "cases/<int:case_id>/discussion/mentionable/",
        views.mentionable,
        name="discussion_mentionable",
    ),
    path(
        "cases/<int:case_id>/discussion/messages/<int:message_id>/edit/",
        views.message_edit,
        name="discussion_message_edit",
    ),
    path(
        "cases/<int:case_id>/discussion/messages/<int:message_id>/delete/",
        views.message_delete,
        name="discussion_message_delete",
    ),
]
