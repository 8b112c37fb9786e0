"""A fake QQ client speaking OneBot v11 over the bot's reverse WebSocket.

It connects the way NapCat / Lagrange do, posts events, answers every API call
with plausible data and records the calls, so scripts and end-to-end tests can
drive a running bot:

    async with OneBotClient(url, token="T") as qq:
        await qq.send_group_message(123456, 10001, "帮助", nickname="张三")
        call = await qq.wait_for_call(("send_group_msg", "send_msg"), timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

Params = dict[str, Any]
Responder = Callable[[Params], Any | Awaitable[Any]]


@dataclass
class ApiCall:
    """One API call the bot made, and what the client answered."""

    action: str
    params: Params
    echo: Any
    at: float
    response: dict[str, Any] = field(default_factory=dict)


class NoReply(Exception):
    """Raise from a responder to leave a call unanswered (the bot sees a timeout)."""


class ApiError(Exception):
    """Raise from a responder to answer a call with status "failed"."""

    def __init__(self, retcode: int = 100, message: str = "failed") -> None:
        super().__init__(message)
        self.retcode = retcode
        self.message = message


@dataclass
class Member:
    user_id: int
    nickname: str
    role: str = "member"  # owner | admin | member
    card: str = ""


def text_segments(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "data": {"text": text}}]


class OneBotClient:
    """One QQ account connected to the bot. Use as an async context manager."""

    def __init__(
        self,
        url: str,
        *,
        self_id: int = 10000,
        token: str | None = None,
        nickname: str = "测试机器人",
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self.url = url
        self.self_id = self_id
        self.token = token
        self.nickname = nickname
        self.calls: list[ApiCall] = []
        self.on_call = on_call  # observer, e.g. the transcript printer
        self.responders: dict[str, Responder] = {}  # action -> override
        self.members: dict[tuple[int, int], Member] = {}
        self.group_names: dict[int, str] = {}
        self.sent_events: list[dict[str, Any]] = []
        # Ids differ between runs: a bot drops a (self_id, message_id) it saw recently.
        self._ids = itertools.count(int(time.time() * 1000) % 1_000_000_000 + 1)
        self._consumed: set[int] = set()
        self._changed = asyncio.Condition()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._answering: set[asyncio.Task[None]] = set()

    # connection -----------------------------------------------------------

    def headers(self) -> dict[str, str]:
        headers = {"X-Self-ID": str(self.self_id), "X-Client-Role": "Universal"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def connect(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a test-API convenience
        """Open the WebSocket (raises websockets' InvalidStatus when refused)."""
        self._ws = await asyncio.wait_for(
            connect(self.url, additional_headers=self.headers(), open_timeout=timeout), timeout
        )
        self._reader = asyncio.create_task(self._read(self._ws), name="onebot-sim-reader")
        await self.send_event(
            {"post_type": "meta_event", "meta_event_type": "lifecycle", "sub_type": "connect"}
        )

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        for task in [self._reader, *self._answering]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._ws = self._reader = None

    async def __aenter__(self) -> OneBotClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # events ---------------------------------------------------------------

    def next_message_id(self) -> int:
        return next(self._ids)

    def add_member(
        self, group_id: int, user_id: int, nickname: str, role: str = "member", card: str = ""
    ) -> Member:
        member = Member(user_id, nickname, role, card)
        self.members[(group_id, user_id)] = member
        return member

    async def send_event(self, event: dict[str, Any]) -> dict[str, Any]:
        """Post a raw event; `time` and `self_id` are filled in when missing."""
        if self._ws is None:
            raise RuntimeError("not connected")
        event = {"time": int(time.time()), "self_id": self.self_id, **event}
        self.sent_events.append(event)
        await self._ws.send(json.dumps(event, ensure_ascii=False))
        return event

    async def member_joins(
        self, group_id: int, user_id: int, nickname: str, *, invited_by: int | None = None
    ) -> dict[str, Any]:
        """`group_increase`: approved by an admin, or invited by a member (`invited_by`)."""
        self.add_member(group_id, user_id, nickname)
        return await self.send_event({
            "post_type": "notice", "notice_type": "group_increase",
            "sub_type": "invite" if invited_by else "approve", "group_id": group_id,
            "user_id": user_id, "operator_id": invited_by or 0,
        })  # fmt: skip

    async def member_leaves(
        self, group_id: int, user_id: int, *, kicked_by: int | None = None
    ) -> dict[str, Any]:
        """`group_decrease`: left by themselves, or kicked by an admin."""
        self.members.pop((group_id, user_id), None)
        return await self.send_event({
            "post_type": "notice", "notice_type": "group_decrease",
            "sub_type": "kick" if kicked_by else "leave", "group_id": group_id,
            "user_id": user_id, "operator_id": kicked_by or user_id,
        })  # fmt: skip

    async def join_request(self, group_id: int, user_id: int, comment: str) -> dict[str, Any]:
        """Someone asks to join a group, with the answer they typed (`comment`)."""
        return await self.send_event({
            "post_type": "request", "request_type": "group", "sub_type": "add",
            "group_id": group_id, "user_id": user_id, "comment": comment,
            "flag": f"req{self.next_message_id()}",
        })  # fmt: skip

    async def send_group_message(
        self,
        group_id: int,
        user_id: int,
        text: str | list[dict[str, Any]],
        *,
        nickname: str | None = None,
        role: str | None = None,
        message_id: int | None = None,
    ) -> int:
        """A member says something in a group; returns the message_id used."""
        member = self.members.get((group_id, user_id))
        if member is None or nickname is not None or role is not None:
            member = self.add_member(
                group_id,
                user_id,
                nickname or (member.nickname if member else f"用户{user_id}"),
                role or (member.role if member else "member"),
            )
        message = text_segments(text) if isinstance(text, str) else text
        message_id = self.next_message_id() if message_id is None else message_id
        await self.send_event(
            {
                "post_type": "message",
                "message_type": "group",
                "sub_type": "normal",
                "message_id": message_id,
                "group_id": group_id,
                "user_id": user_id,
                "anonymous": None,
                "message": message,
                "raw_message": _raw(message),
                "font": 0,
                "sender": {
                    "user_id": user_id,
                    "nickname": member.nickname,
                    "card": member.card,
                    "role": member.role,
                },
            }
        )
        return message_id

    async def send_private_message(
        self,
        user_id: int,
        text: str | list[dict[str, Any]],
        *,
        nickname: str | None = None,
        message_id: int | None = None,
        sub_type: str = "friend",
    ) -> int:
        """Someone DMs the bot; returns the message_id used."""
        message = text_segments(text) if isinstance(text, str) else text
        message_id = self.next_message_id() if message_id is None else message_id
        await self.send_event(
            {
                "post_type": "message",
                "message_type": "private",
                "sub_type": sub_type,
                "message_id": message_id,
                "user_id": user_id,
                "message": message,
                "raw_message": _raw(message),
                "font": 0,
                "sender": {"user_id": user_id, "nickname": nickname or f"用户{user_id}"},
            }
        )
        return message_id

    # API calls from the bot ---------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(Exception):
            async for raw in ws:
                data = json.loads(raw)
                if isinstance(data, dict) and "action" in data:
                    task = asyncio.create_task(self._answer(ws, data))  # slow answers block nothing
                    self._answering.add(task)
                    task.add_done_callback(self._answering.discard)

    async def _answer(self, ws: ClientConnection, frame: dict[str, Any]) -> None:
        call = ApiCall(frame["action"], frame.get("params") or {}, frame.get("echo"), time.time())
        try:
            result = await self._result(call.action, call.params)
            call.response = {"status": "ok", "retcode": 0, "data": result}
        except ApiError as exc:
            call.response = {
                "status": "failed", "retcode": exc.retcode, "data": None,
                "message": exc.message, "wording": exc.message,
            }  # fmt: skip
        except NoReply:
            call.response = {}  # recorded, never answered: the bot's call times out
        except Exception as exc:  # a broken responder answers "failed", never kills the reader
            call.response = {"status": "failed", "retcode": 100, "data": None, "message": repr(exc)}
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if self.on_call is not None:
            self.on_call(call)
        if not call.response:
            return
        with contextlib.suppress(Exception):  # the bot may be gone already
            await ws.send(json.dumps({**call.response, "echo": call.echo}, ensure_ascii=False))

    async def _result(self, action: str, params: Params) -> Any:
        responder = self.responders.get(action)
        if responder is not None:
            result = responder(params)
            return await result if inspect.isawaitable(result) else result
        handler = getattr(self, f"_api_{action}", None)
        if handler is None:
            raise ApiError(1404, f"unsupported action {action}")
        return handler(params)

    # default answers, by action
    def _sent(self, _: Params) -> dict[str, Any]:
        return {"message_id": self.next_message_id()}

    _api_send_msg = _api_send_group_msg = _api_send_private_msg = _sent

    def _api_send_group_forward_msg(self, _: Params) -> dict[str, Any]:
        return {"message_id": self.next_message_id(), "forward_id": f"fwd{self.next_message_id()}"}

    _api_send_private_forward_msg = _api_send_forward_msg = _api_send_group_forward_msg

    def _api_get_login_info(self, _: Params) -> dict[str, Any]:
        return {"user_id": self.self_id, "nickname": self.nickname}

    def _api_get_group_member_info(self, params: Params) -> dict[str, Any]:
        group_id, user_id = int(params.get("group_id", 0)), int(params.get("user_id", 0))
        member = self.members.get((group_id, user_id)) or Member(user_id, f"用户{user_id}")
        return _member_info(group_id, member)

    def _api_get_group_member_list(self, params: Params) -> list[dict[str, Any]]:
        group_id = int(params.get("group_id", 0))
        return [_member_info(g, m) for (g, _), m in self.members.items() if g == group_id]

    def _api_get_group_info(self, params: Params) -> dict[str, Any]:
        group_id = int(params.get("group_id", 0))
        count = sum(1 for g, _ in self.members if g == group_id)
        return {
            "group_id": group_id, "group_name": self.group_names.get(group_id, f"车主群{group_id}"),
            "member_count": count, "max_member_count": 500,
        }  # fmt: skip

    def _api_get_group_list(self, _: Params) -> list[dict[str, Any]]:
        groups = {g for g, _ in self.members} | set(self.group_names)
        return [self._api_get_group_info({"group_id": g}) for g in sorted(groups)]

    def _api_get_stranger_info(self, params: Params) -> dict[str, Any]:
        user_id = int(params.get("user_id", 0))
        names = [m.nickname for (_, u), m in self.members.items() if u == user_id]
        return {
            "user_id": user_id,
            "nickname": names[0] if names else f"用户{user_id}",
            "sex": "unknown",
            "age": 0,
        }

    def _api_get_friend_list(self, _: Params) -> list[dict[str, Any]]:
        return []

    def _api_get_msg(self, params: Params) -> dict[str, Any]:
        """A message by id, as go-cqhttp/NapCat answer it (real_id included): one a
        member sent, or one the bot sent (its sender is the bot's own account). The
        OneBot adapter asks for it when a message quote-replies it (event.reply)."""
        wanted = params.get("message_id")
        for event in reversed(self.sent_events):
            if event.get("message_id") == wanted:
                found = {
                    k: event[k]
                    for k in ("time", "message_type", "message_id", "sender", "message")
                    if k in event
                }
                return {**found, "real_id": wanted}
        for call in reversed(self.calls):
            data = call.response.get("data")
            if (
                isinstance(data, dict)
                and data.get("message_id") == wanted
                and "message" in call.params
            ):
                kind = "group" if "group_id" in call.params else "private"
                return {
                    "time": int(call.at), "message_type": kind, "message_id": wanted,
                    "real_id": wanted, "message": call.params["message"],
                    "sender": {"user_id": self.self_id, "nickname": self.nickname},
                }  # fmt: skip
        raise ApiError(100, "message not found")

    async def quote_reply(
        self, group_id: int, user_id: int, message_id: int, text: str, **kw: Any
    ) -> int:
        """A member quote-replies (引用回复) the message `message_id` in a group."""
        reply = {"type": "reply", "data": {"id": str(message_id)}}
        return await self.send_group_message(group_id, user_id, [reply, *text_segments(text)], **kw)

    def _api_get_status(self, _: Params) -> dict[str, Any]:
        return {"online": True, "good": True}

    def _api_get_version_info(self, _: Params) -> dict[str, Any]:
        return {"app_name": "onebot-sim", "app_version": "0.1.0", "protocol_version": "v11"}

    def _yes(self, _: Params) -> dict[str, Any]:
        return {"yes": True}

    _api_can_send_image = _api_can_send_record = _yes

    def _none(self, _: Params) -> None:
        return None

    _api_upload_group_file = _api_upload_private_file = _api_delete_msg = _none
    _api_set_group_ban = _api_set_group_card = _api_set_group_kick = _none
    _api_set_friend_add_request = _api_set_group_add_request = _none

    # waiting ----------------------------------------------------------------

    def mark(self) -> int:
        """The number of calls so far: pass as `after=` to look at later calls only."""
        return len(self.calls)

    def calls_since(self, mark: int, actions: str | Iterable[str] | None = None) -> list[ApiCall]:
        wanted = _actions(actions)
        return [c for c in self.calls[mark:] if wanted is None or c.action in wanted]

    async def wait_for_call(
        self,
        action: str | Iterable[str] | None = None,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,  # noqa: ASYNC109 - the tests' API: wait_for_call(action, predicate, timeout)
        *,
        after: int = 0,
    ) -> ApiCall:
        """The earliest matching call not returned before (raises TimeoutError)."""
        wanted = _actions(action)

        def find() -> ApiCall | None:
            for index in range(after, len(self.calls)):
                call = self.calls[index]
                if index in self._consumed or (wanted is not None and call.action not in wanted):
                    continue
                if predicate is None or predicate(call):
                    self._consumed.add(index)
                    return call
            return None

        async def wait() -> ApiCall:
            async with self._changed:
                while (found := find()) is None:
                    await self._changed.wait()
                return found

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = ", ".join(c.action for c in self.calls[after:]) or "none"
            raise TimeoutError(
                f"no {action or 'API'} call within {timeout}s (calls: {seen})"
            ) from None

    async def wait_for_group_reply(
        self,
        group_id: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - as wait_for_call
        *,
        after: int = 0,
    ) -> ApiCall:
        """The next message the bot posts into `group_id` (any of the send actions)."""
        return await self.wait_for_call(
            GROUP_SEND_ACTIONS, lambda c: is_group_send(c, group_id), timeout, after=after
        )


GROUP_SEND_ACTIONS = ("send_group_msg", "send_msg", "send_group_forward_msg", "send_forward_msg")


def is_group_send(call: ApiCall, group_id: int | None = None) -> bool:
    if call.action not in GROUP_SEND_ACTIONS:
        return False
    if (
        call.action in ("send_msg", "send_forward_msg")
        and call.params.get("message_type", "group") != "group"
    ):
        return False
    if call.action in ("send_msg", "send_forward_msg") and "group_id" not in call.params:
        return False
    return group_id is None or int(call.params.get("group_id", 0)) == group_id


def _actions(actions: str | Iterable[str] | None) -> set[str] | None:
    if actions is None:
        return None
    return {actions} if isinstance(actions, str) else set(actions)


def _raw(message: list[dict[str, Any]]) -> str:
    parts = []
    for seg in message:
        if seg.get("type") == "text":
            parts.append(str(seg.get("data", {}).get("text", "")))
        else:
            data = ",".join(f"{k}={v}" for k, v in (seg.get("data") or {}).items())
            parts.append(f"[CQ:{seg.get('type')}{',' + data if data else ''}]")
    return "".join(parts)


def _member_info(group_id: int, member: Member) -> dict[str, Any]:
    now = int(time.time())
    return {
        "group_id": group_id, "user_id": member.user_id, "nickname": member.nickname,
        "card": member.card, "sex": "unknown", "age": 0, "area": "", "join_time": now - 86_400 * 30,
        "last_sent_time": now, "level": "1", "role": member.role, "unfriendly": False,
        "title": "", "title_expire_time": 0, "card_changeable": False,
    }  # fmt: skip
