"""The base of the project's WebSocket consumers."""

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class AsyncJsonConsumer(AsyncJsonWebsocketConsumer):
    """``AsyncJsonWebsocketConsumer`` without Channels' connection clean-up per message.

    Since Channels 4.2, ``AsyncConsumer.dispatch`` runs Django's ``close_old_connections``
    through ``sync_to_async`` before every handler: for every frame received and every
    group message delivered, a hop to the process's one shared sync thread and back, so
    the deliveries of all sockets queued behind that thread. Our consumers never query
    the database on the event loop: every query goes through ``database_sync_to_async``,
    which closes old connections before and after, in the thread that runs the query.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
