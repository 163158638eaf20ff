"""Consilium's ASGI application plus the WebSocket baseline.

``/ws/bench-relay/?g=<name>`` is a bare Channels consumer that relays every
text frame it receives to its group and nothing else: no auth, no database,
no JSON. It shares the Daphne process and the channel layer with Consilium,
so the fan-out benchmark compares both under the same conditions.
"""

import os
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.bench_settings")

from channels.generic.websocket import AsyncWebsocketConsumer

from workspace.asgi import application as consilium

RELAY_PATH = "/ws/bench-relay/"


class RelayConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode())
        self.group = "bench-relay-" + (query.get("g") or ["default"])[0][:40]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if text_data is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "relay", "text": text_data}
            )

    async def relay(self, event: dict) -> None:
        await self.send(text_data=event["text"])


relay = RelayConsumer.as_asgi()


async def application(scope, receive, send):
    if scope["type"] == "websocket" and scope.get("path") == RELAY_PATH:
        return await relay(scope, receive, send)
    return await consilium(scope, receive, send)
