from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Sends an e-mail (SES in production; console and a mailbox folder locally)."""

    async def send(self, email: Email) -> None: ...


@dataclass(frozen=True)
class BusMessage:
    channel: str
    data: dict[str, Any]
    traceparent: str | None = None
    """The W3C trace context of the work that published it, beside (never inside) `data`."""


class RealtimeBus(Protocol):
    """Publishes `{channel, data}` to every node; each node delivers to its subscribers."""

    async def publish(
        self, channel: str, data: dict[str, Any], traceparent: str | None = None
    ) -> None: ...

    def listen(self, channels: Collection[str] | None = None) -> AsyncIterator[BusMessage]:
        """Every message published after the call: on every channel (None), or only on
        `channels` and on the channels this node has joined (`NodeBus.join`)."""
        ...

    @property
    def healthy(self) -> bool: ...


class NodeBus(RealtimeBus, Protocol):
    """A bus whose node receives only the channels it follows: the fixed channels of its
    listeners, plus the channels joined for the sockets it holds (reference counted)."""

    async def join(self, channel: str) -> None:
        """Follows `channel` on this node; returns once messages on it reach the node's
        listeners. Raises TimeoutError if the subscription is not in place within the bus's
        confirmation wait."""
        ...

    def leave(self, channel: str) -> None:
        """Undoes one `join`; the node stops receiving `channel` with the last one."""
        ...


class AuthCache(Protocol):
    """What a node caches about sessions; told at once when a user's sessions change."""

    async def forget_user(self, user_id: str) -> None: ...


class SessionEvents(Protocol):
    """Tells every node that sessions ended: their caches forget the user and the realtime
    gateways close the matching sockets."""

    async def sessions_ended(self, user_id: str, device_id: str | None = None) -> None:
        """All of the user's sessions ended, or only those on `device_id`."""
        ...
