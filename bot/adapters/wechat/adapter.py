"""The WeChat adapter: callbacks on the bot's own HTTP server, one Bot per app.

Routes (only for the configured apps):
  GET/POST /wechat/wecom  - the WeCom self-built app (staff DMs, customer-contact events)
  GET/POST /wechat/oa     - the Official Account in safe (encrypted) mode

A POST is checked (bot.adapters.wechat.callback), answered at once ("success"
for the OA, an empty body for WeCom) and processed in the background, so
WeChat never retries a slow handler; a copy of a message already seen is
answered the same way and has no effect. Refusals are a 403 and one log line.

Actions for `bot.call_api` (plugins may also call them as bot methods):
  send_text(user_id, text)                WeCom app message / OA customer-service message
  send_markdown(user_id, content)         WeCom only
  get_group_chat(chat_id)                 WeCom customer group with its member_list
  add_contact_way(state, user_ids, remark=None)   联系我 QR code carrying `state`
  add_group_msg_template(sender, text, chat_ids=None)  customer-group mass-send task
The last three need WECOM_CONTACT_SECRET.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import nonebot
from nonebot.adapters import Adapter as BaseAdapter
from nonebot.drivers import URL, Driver, HTTPServerSetup, Request, Response
from nonebot.exception import ApiNotAvailable
from nonebot.log import logger
from nonebot.message import handle_event
from nonebot.utils import escape_tag
from typing_extensions import override

from bot.adapters.wechat.bot import Bot
from bot.adapters.wechat.callback import (
    CallbackKeys,
    Refused,
    ReplayGuard,
    Verifier,
    durable_key,
)
from bot.adapters.wechat.client import AppApi, WeComClient, make_clients
from bot.adapters.wechat.config import WeChatSettings
from bot.adapters.wechat.event import Event, Platform, parse_event
from bot.adapters.wechat.message import chunks

PATHS: dict[Platform, str] = {"wecom": "/wechat/wecom", "oa": "/wechat/oa"}
ACK: dict[Platform, str] = {"wecom": "", "oa": "success"}
SHUTDOWN_GRACE = 5.0
# True the first time a key is seen, durably (the desk's `once`).
ClaimKey = Callable[[str], Awaitable[bool]]


def _query(request: Request) -> dict[str, str]:
    """First value of each query parameter."""
    query: dict[str, str] = {}
    for key, value in request.url.query.items():
        query.setdefault(key, value)
    return query


def _body(request: Request) -> bytes:
    content = request.content
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return b""


class Adapter(BaseAdapter):
    def __init__(self, driver: Driver, **kwargs: Any) -> None:
        super().__init__(driver, **kwargs)
        settings = kwargs.get("settings")
        if not isinstance(settings, WeChatSettings):  # built once at start: bot.settings
            raise TypeError("the WeChat adapter needs settings=WeChatSettings")
        self.settings = settings
        self.clients = make_clients(settings)
        self.replays = ReplayGuard()
        self.claim: ClaimKey | None = None  # set when the desk opens (bot.app)
        self._tasks: set[asyncio.Task] = set()
        self._apps: dict[Platform, tuple[str, Verifier]] = {}
        if settings.wecom:
            keys = CallbackKeys(
                settings.wecom.token, settings.wecom.aes_key, settings.wecom.corp_id
            )
            self._apps["wecom"] = (settings.wecom.self_id, Verifier(keys, "wecom"))
        if settings.oa:
            keys = CallbackKeys(settings.oa.token, settings.oa.aes_key, settings.oa.app_id)
            self._apps["oa"] = (settings.oa.self_id, Verifier(keys, "oa"))
        for platform in self._apps:
            self._route(platform)
        driver.on_startup(self._startup)
        driver.on_shutdown(self._shutdown)

    @classmethod
    @override
    def get_name(cls) -> str:
        return "WeChat"

    # -- lifecycle -------------------------------------------------------------

    def use_claim(self, claim: ClaimKey) -> None:
        """Record each callback's key with `claim` (the desk's `once`) before processing it."""
        self.claim = claim

    def _route(self, platform: Platform) -> None:
        path = URL(PATHS[platform])

        async def get(request: Request) -> Response:
            return await self._handle_get(platform, request)

        async def post(request: Request) -> Response:
            return await self._handle_post(platform, request)

        self.setup_http_server(HTTPServerSetup(path, "GET", f"wechat-{platform}-verify", get))
        self.setup_http_server(HTTPServerSetup(path, "POST", f"wechat-{platform}", post))

    async def _startup(self) -> None:
        for platform, (self_id, _) in self._apps.items():
            self.bot_connect(Bot(self, self_id, platform))
            logger.info(f"WeChat {platform} app {self_id}: callback at {PATHS[platform]}")
        self._spawn(self._check_tokens())

    async def _shutdown(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=SHUTDOWN_GRACE)
            for task in pending:
                task.cancel()
        for bot in list(self.bots.values()):
            with contextlib.suppress(RuntimeError):
                self.bot_disconnect(bot)

    async def _check_tokens(self) -> None:
        """Fetch each token once at start: bad credentials show in the log at once."""
        apps: list[tuple[str, AppApi]] = []
        if self.clients.wecom:
            apps.append(("WeCom app", self.clients.wecom.app))
            if self.clients.wecom.contact:
                apps.append(("WeCom customer contact", self.clients.wecom.contact))
        if self.clients.oa:
            apps.append(("Official Account", self.clients.oa.app))
        for name, api in apps:
            try:
                await api.token()
            except Exception as exc:
                logger.warning(f"{name}: no access token yet: {exc}")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- callbacks -------------------------------------------------------------

    def _refuse(self, platform: Platform, method: str, reason: str) -> Response:
        logger.warning(f"WeChat {platform} {method} callback refused: {reason}")
        return Response(403, content="forbidden")

    async def _handle_get(self, platform: Platform, request: Request) -> Response:
        _, verifier = self._apps[platform]
        try:
            echo = verifier.verify_url(_query(request))
        except Refused as exc:
            return self._refuse(platform, "GET", exc.reason)
        return Response(200, content=echo, headers={"Content-Type": "text/plain"})

    async def _handle_post(self, platform: Platform, request: Request) -> Response:
        self_id, verifier = self._apps[platform]
        ack = Response(200, content=ACK[platform], headers={"Content-Type": "text/plain"})
        try:
            fields = verifier.open(_query(request), _body(request))
        except Refused as exc:
            return self._refuse(platform, "POST", exc.reason)
        if platform == "wecom" and self.settings.wecom:
            agent = fields.get("AgentID")
            if agent not in (None, "", str(self.settings.wecom.agent_id)):
                logger.warning(f"WeChat wecom: callback for another agent {agent!r} ignored")
                return ack
        if not self.replays.first(platform, fields):
            logger.info(f"WeChat {platform}: repeated callback ignored")
            return ack
        event = parse_event(platform, self_id, fields)
        if event is None:
            logger.debug(
                f"WeChat {platform}: {fields.get('MsgType')}/{fields.get('Event')} not handled"
            )
            return ack
        bot = self.bots.get(self_id)
        if not isinstance(bot, Bot):
            logger.warning(f"WeChat {platform}: event before the bot connected, dropped")
            return ack
        self._spawn(self._process(platform, bot, event, durable_key(platform, self_id, fields)))
        return ack

    async def _process(self, platform: Platform, bot: Bot, event: Event, key: str) -> None:
        """The event, unless the desk has seen its message before (a replay after a
        restart, which the in-memory guard forgot)."""
        if self.claim is not None:
            try:
                first = await self.claim(key)
            except Exception as exc:
                logger.error(
                    f"WeChat {platform}: callback dropped, its replay check failed: "
                    f"{escape_tag(repr(exc))}"
                )
                return
            if not first:
                logger.info(f"WeChat {platform}: callback processed before a restart, ignored")
                return
        await handle_event(bot, event)

    # -- API -------------------------------------------------------------------

    def _wecom(self) -> WeComClient:
        if self.clients.wecom is None:
            raise ApiNotAvailable(self.get_name(), "WeCom is not configured")
        return self.clients.wecom

    @override
    async def _call_api(self, bot: Bot, api: str, **data: Any) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        platform = getattr(bot, "platform", None)
        if api == "send_text":
            send: Callable[[str, str], Awaitable[dict]]
            if platform == "oa":
                if self.clients.oa is None:
                    raise ApiNotAvailable(self.get_name(), "the Official Account is not configured")
                send = self.clients.oa.send_text
            else:
                send = self._wecom().send_text
            return [await send(str(data["user_id"]), part) for part in chunks(str(data["text"]))]
        if platform != "wecom":
            raise ApiNotAvailable(self.get_name(), f"{api} is a WeCom action")
        wecom = self._wecom()
        if api == "send_markdown":
            content = str(data["content"])
            return [await wecom.send_markdown(str(data["user_id"]), c) for c in chunks(content)]
        if api == "get_group_chat":
            return await wecom.get_group_chat(str(data["chat_id"]))
        if api == "add_contact_way":
            return await wecom.add_contact_way(
                str(data["state"]), list(data["user_ids"]), remark=data.get("remark")
            )
        if api == "add_group_msg_template":
            return await wecom.add_group_msg_template(
                str(data["sender"]), str(data["text"]), data.get("chat_ids")
            )
        raise ApiNotAvailable(self.get_name(), f"unknown action {api!r}")


def register_wechat(driver: Driver, settings: WeChatSettings) -> Adapter | None:
    """Register the adapter when any WeChat app is configured; the adapter, or None."""
    if not settings.enabled:
        return None
    driver.register_adapter(Adapter, settings=settings)
    return nonebot.get_adapter(Adapter)
