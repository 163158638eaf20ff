"""Consult pages: the specialist's queue, requesting, the consult with its
timeline, and each step (accept, decline, answer, close, cancel).

Thin: a consult is found through ``consult_get_for`` (404 when the user may
not see it), a case through ``case_get_for``; the services decide and raise
``ServiceError``: field problems become form errors, a refusal of rights 403,
anything else a message on the consult page. A PHI refusal re-renders the
form with 400, each finding under its field with a "not identifying" box
(``dismiss``); sending it again with the boxes ticked goes through.

The package: :mod:`~consults.views.pages` (queue, consult page, the case
page's list), :mod:`~consults.views.requester` (request, close, cancel) and
:mod:`~consults.views.specialist` (accept, decline, answer); the forms are
in :mod:`consults.forms`.
"""

from django.urls import path

from consults.views.pages import consult_detail, consult_queue, consults_fragment
from consults.views.requester import consult_cancel, consult_close, consult_request
from consults.views.specialist import consult_accept, consult_answer, consult_decline

urlpatterns = [
    path("consults/", consult_queue, name="consult_queue"),
    path("consults/<int:pk>/", consult_detail, name="consult_detail"),
    path("consults/<int:pk>/accept/", consult_accept, name="consult_accept"),
    path("consults/<int:pk>/decline/", consult_decline, name="consult_decline"),
    path("consults/<int:pk>/answer/", consult_answer, name="consult_answer"),
    path("consults/<int:pk>/close/", consult_close, name="consult_close"),
    path("consults/<int:pk>/cancel/", consult_cancel, name="consult_cancel"),
    path("cases/<int:pk>/consults/", consults_fragment, name="consults_fragment"),
    path("cases/<int:pk>/consults/new/", consult_request, name="consult_request"),
]
