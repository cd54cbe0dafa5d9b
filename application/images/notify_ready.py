from typing import Any

from application.images.policy import ImagePolicy
from application.ports.images import ObjectStore
from application.ports.messaging import Email, Mailer, RealtimeBus


class NotifyImageReady:
    """Tells the owner an image is ready: `image.ready` on `user:{id}`, and an e-mail
    where they asked for one. The outbox relays these once the job is committed ready;
    everything needed travels in the payload (a relay holds its transaction meanwhile)."""

    def __init__(
        self, bus: RealtimeBus, mailer: Mailer, store: ObjectStore, policy: ImagePolicy
    ) -> None:
        self._bus, self._mailer, self._store, self._policy = bus, mailer, store, policy

    async def publish(self, payload: dict[str, Any]) -> None:
        url = await self._store.download_url(payload["object_key"], self._policy.url_ttl_seconds)
        await self._bus.publish(f"user:{payload['user_id']}", {
            "type": "image.ready", "id": payload["image_id"], "status": "ready", "url": url},
            payload.get("traceparent"))

    async def email(self, payload: dict[str, Any]) -> None:
        prompt = payload.get("prompt", "")
        await self._mailer.send(Email(
            to=payload["email"],
            subject="Your Atelier image is ready",
            body=f"The image you asked for is ready:\n\n  \u201c{prompt}\u201d\n\n"
                 "Open Atelier to see it and save it.\n",
        ))
