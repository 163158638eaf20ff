"""ASGI entry point: HTTP through Django, WebSockets through Channels.

WebSockets pass origin validation (ALLOWED_HOSTS) and session auth before
reaching the consumers in ``realtime.routing``. HTTP bodies over
``REQUEST_BODY_MAX_BYTES`` are refused with 413 (``workspace.asgi_body``).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workspace.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from realtime.routing import websocket_urlpatterns  # noqa: E402
from workspace.asgi_body import RequestBodyLimit  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
