"""A proxy in front of the moto server that answers the two Cognito operations moto 5.2.5
lacks, AdminLinkProviderForUser and AdminDisableProviderForUser (AWS JSON 1.1, the
`X-Amz-Target` header), and forwards every other request to moto unchanged, so sign-up,
log-in and AdminDeleteUser stay moto's. It records those two calls, checks their shapes as
the API reference writes them, checks the destination user exists in moto, and can be told
to fail them (Cognito down)."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.server import lifespan_done, request_body
from tests.support.thread_server import serving_in_thread

SERVICE = "AWSCognitoIdentityProviderService"
LINK, DISABLE = "AdminLinkProviderForUser", "AdminDisableProviderForUser"
SOCIAL = {"SignInWithApple", "Google", "Facebook", "LoginWithAmazon"}
HOP_HEADERS = {"host", "content-length", "connection", "transfer-encoding"}


@dataclass
class CognitoLinks:
    """The proxy's state: `links` maps (ProviderName, sub) to the destination user name."""

    moto_url: str
    url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    links: dict[tuple[str, str], str] = field(default_factory=dict)
    down: bool = False
    configured: set[str] = field(default_factory=lambda: {"SignInWithApple", "Google"})
    """The social identity providers set up in the pool; others are refused."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls_of(self, operation: str) -> list[dict[str, Any]]:
        with self._lock:
            return [body for name, body in self.calls if name == operation]

    def linked(self) -> dict[tuple[str, str], str]:
        with self._lock:
            return dict(self.links)

    async def answer(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append((operation, body))
            if self.down:
                return 500, _error("InternalErrorException", "Cognito is down (test)")
        if operation == LINK:
            return await self._link(body)
        return self._disable(body)

    async def _link(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        destination, source = body.get("DestinationUser", {}), body.get("SourceUser", {})
        if (set(body) != {"UserPoolId", "DestinationUser", "SourceUser"}
                or destination.get("ProviderName") != "Cognito"
                or set(destination) != {"ProviderName", "ProviderAttributeValue"}
                or not self._is_source(source)):
            return 400, _error("InvalidParameterException", f"bad request shape: {body}")
        if not await self._user_exists(body["UserPoolId"], destination["ProviderAttributeValue"]):
            return 400, _error("UserNotFoundException", "User does not exist.")
        key = (source["ProviderName"], source["ProviderAttributeValue"])
        with self._lock:
            held = self.links.get(key)
            if held is not None and held != destination["ProviderAttributeValue"]:
                return 400, _error("InvalidParameterException",
                                   "SourceUser is already linked to another user")
            self.links[key] = destination["ProviderAttributeValue"]
        return 200, {}

    def _disable(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        user = body.get("User", {})
        if set(body) != {"UserPoolId", "User"} or not self._is_source(user):
            return 400, _error("InvalidParameterException", f"bad request shape: {body}")
        with self._lock:
            if self.links.pop((user["ProviderName"], user["ProviderAttributeValue"]),
                              None) is None:
                return 400, _error("UserNotFoundException", "User does not exist.")
        return 200, {}

    def _is_source(self, user: dict[str, Any]) -> bool:
        return (set(user) == {"ProviderName", "ProviderAttributeName", "ProviderAttributeValue"}
                and user["ProviderName"] in SOCIAL & self.configured
                and user["ProviderAttributeName"] == "Cognito_Subject"
                and bool(user["ProviderAttributeValue"]))

    async def _user_exists(self, pool_id: str, username: str) -> bool:
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.moto_url + "/", headers={
                "X-Amz-Target": f"{SERVICE}.AdminGetUser",
                "Content-Type": "application/x-amz-json-1.1"},
                content=json.dumps({"UserPoolId": pool_id, "Username": username}))
        return answer.status_code == 200




def _error(kind: str, message: str) -> dict[str, Any]:
    return {"__type": kind, "message": message}


def _proxy_app(state: CognitoLinks) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await lifespan_done(receive, send)
            return
        body = await request_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        target = headers.get("x-amz-target", "")
        if target in (f"{SERVICE}.{LINK}", f"{SERVICE}.{DISABLE}"):
            status, answer = await state.answer(target.split(".", 1)[1], json.loads(body))
            payload = json.dumps(answer).encode()
            out = [(b"content-type", b"application/x-amz-json-1.1")]
        else:
            url = state.moto_url + scope["path"]
            if scope.get("query_string"):
                url += "?" + scope["query_string"].decode()
            async with httpx.AsyncClient() as client:
                forwarded = await client.request(
                    scope["method"], url, content=body,
                    headers={k: v for k, v in headers.items() if k not in HOP_HEADERS})
            status, payload = forwarded.status_code, forwarded.content
            out = [(k.encode(), v.encode()) for k, v in forwarded.headers.items()
                   if k.lower() not in HOP_HEADERS | {"content-encoding"}]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": payload})

    return app


@contextmanager
def cognito_linking_proxy(moto_url: str) -> Iterator[CognitoLinks]:
    """The proxy on a loopback port (its `url`), forwarding to `moto_url`."""
    state = CognitoLinks(moto_url)
    with serving_in_thread(_proxy_app(state)) as url:
        state.url = url
        yield state
