"""What the bot's port accepts: the QQ client over the reverse WebSocket with the
access token, and HTTP requests whose body fits a limit (security review "Trust").

- `OneBotWsAdapter`: the OneBot v11 adapter without its HTTP POST routes
  (/onebot/v11/, /onebot/v11/http, /onebot/v11/http/). Those check only
  ONEBOT_SECRET, never the access token: anyone reaching the port could post a
  forged QQ event, and its X-Self-ID kept the real client out until restart.
- `BodyLimit`: a pure ASGI middleware; the FastAPI driver reads a whole body
  before any handler sees it, so the limit must act first.
- `check_access_token`: refuses the placeholder token, and an empty one
  wherever someone else could reach the port.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from fastapi import FastAPI
from nonebot.adapters.onebot.utils import get_auth_bearer
from nonebot.adapters.onebot.v11 import Adapter as OneBotV11Adapter
from nonebot.drivers import Driver, HTTPServerSetup, Request, Response
from nonebot.log import logger
from pydantic import BaseModel, Field
from typing_extensions import override

from bot.adapters.wechat.callback import MAX_BODY_BYTES as WECHAT_MAX_BODY_BYTES
from bot.loader import StartupError

# The value .env.example ships with: a bot running on it has no secret at all.
PLACEHOLDER_TOKEN = "change-me-to-a-long-random-string"
WECHAT_PREFIX = "/wechat/"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class OneBotWsAdapter(OneBotV11Adapter):
    """OneBot v11 over the reverse WebSocket only (ws://HOST:PORT/onebot/v11/ws).
    Its name stays "OneBot V11", so get_adapter, nonebug and the plugins see the
    stock adapter."""

    @override
    def setup_http_server(self, setup: HTTPServerSetup) -> None:
        # Only the stock adapter's event POST routes come here: they never check
        # ONEBOT_ACCESS_TOKEN, so they are not served at all.
        logger.debug(f"OneBot V11: HTTP route {setup.path.path} not served (WebSocket only)")

    @override
    def _check_access_token(self, request: Request) -> Response | None:
        # The stock check compares with `!=`; this one in constant time.
        expected = self.onebot_config.onebot_access_token
        if not expected:
            return None
        given = get_auth_bearer(request.headers.get("authorization")) or ""
        if hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            return None
        message = "Authorization Header is invalid" if given else "Missing Authorization Header"
        logger.warning(f"OneBot V11: {message}")
        return Response(403, content=message)


# -- request bodies -------------------------------------------------------------


class HttpConfig(BaseModel):
    """Settings (env / .env): HTTP_MAX_BODY_BYTES, the largest request body on any
    route; WeChat callbacks get at most 64 KiB (bot.adapters.wechat.callback)."""

    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)

    def limit_for(self, path: str) -> int:
        if path.startswith(WECHAT_PREFIX):
            return min(self.http_max_body_bytes, WECHAT_MAX_BODY_BYTES)
        return self.http_max_body_bytes


def _content_length(scope: Scope) -> int | None:
    """The Content-Length header; None when absent, -1 when malformed."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) < 20 else -1
    return None


async def _too_large(send: Send) -> None:
    body = b"request body too large"
    await send({
        "type": "http.response.start",
        "status": 413,
        "headers": [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),  # the server stops reading the rest
        ],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a body over the limit, before the app reads it: at once when
    Content-Length says so; a body without one (chunked) is read here chunk by
    chunk and refused as soon as it passes the limit, else handed on whole (the
    driver would buffer it anyway)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = _content_length(scope)
        if length is not None:
            if not 0 <= length <= limit:
                await _too_large(send)
                return
            # The server frames the body by Content-Length: no more can arrive.
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install_body_limit(
    driver: Driver, config: HttpConfig, paths: Mapping[str, int] | None = None
) -> HttpConfig:
    """BodyLimit in front of every route of the driver's FastAPI app; `paths` gives
    single routes a limit of their own (the web desk's upload)."""
    app = getattr(driver, "server_app", None)
    if not isinstance(app, FastAPI):
        raise StartupError("DRIVER: use DRIVER=~fastapi (the body-size limit needs FastAPI)")
    exact = dict(paths or {})

    def limit_for(path: str) -> int:
        return exact.get(path) or config.limit_for(path)

    app.add_middleware(BodyLimit, limit_for=limit_for)  # pyright: ignore[reportArgumentType]
    return config


# -- the access token -------------------------------------------------------------


def _loopback(host: object) -> bool:
    text = str(host).strip("[]")
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def check_access_token(token: str | None, host: object, port: int, wechat: bool) -> None:
    """Raises StartupError for the placeholder token, and for an empty one when the
    port is reachable by others (HOST not loopback, or WeChat's public callbacks
    on); an empty token on loopback only is a warning."""
    if token and token.strip() == PLACEHOLDER_TOKEN:
        raise StartupError(
            "ONEBOT_ACCESS_TOKEN is still the .env.example placeholder: set a long random "
            "string (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
            "and the same token in the QQ client"
        )
    if token:
        return
    if wechat or not _loopback(host):
        why = "WeChat callbacks are on (the port is public)" if wechat else f"HOST={host}"
        raise StartupError(
            f"ONEBOT_ACCESS_TOKEN is empty while {why}: anyone reaching the port could "
            "connect as the QQ account; set a long random token (and the same in the QQ client)"
        )
    logger.warning(
        f"ONEBOT_ACCESS_TOKEN is not set: any client reaching {host}:{port} "
        "can connect as a QQ account"
    )
