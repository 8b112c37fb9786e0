"""Events of the WeChat adapter, built from a decrypted callback's XML fields.

User ids are the platform's own: the WeCom userid of a staff member, the
openid of an Official Account follower. Session ids carry the platform
("wecom:zhangsan", "oa:o6_bmj..."), so they never collide with QQ numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from nonebot.adapters import Event as BaseEvent
from nonebot.utils import escape_tag
from typing_extensions import override

from bot.adapters.wechat.message import Message, MessageSegment

Platform = Literal["wecom", "oa"]
MAX_TEXT = 8192  # WeChat caps text at 2048 bytes; anything longer is not from WeChat


class Event(BaseEvent):
    platform: Platform
    self_id: str
    to_user: str  # ToUserName: the corp id (WeCom) or the account's gh_ id (OA)
    from_user: str  # FromUserName
    create_time: int
    raw: dict[str, Any]  # every field of the callback, for what this model leaves out

    @override
    def get_event_description(self) -> str:
        return f"{self.platform} {self.from_user}"

    @override
    def get_log_string(self) -> str:
        # NoneBot logs this with colors=True: a text like "<想买车>" would be read as a
        # colour tag, raise, and the message would never be handled.
        return escape_tag(super().get_log_string())

    @override
    def get_message(self) -> Message:
        raise ValueError("Event has no message!")

    @override
    def get_user_id(self) -> str:
        return self.from_user

    @override
    def get_session_id(self) -> str:
        return f"{self.platform}:{self.get_user_id()}"

    @override
    def is_tome(self) -> bool:
        return False


class MessageEvent(Event):
    """A direct message to the app / account (WeChat has no group chat for apps)."""

    msg_id: int
    msg_type: str
    message: Message

    @override
    def get_type(self) -> str:
        return "message"

    @override
    def get_event_name(self) -> str:
        return f"message.private.{self.platform}"

    @override
    def get_event_description(self) -> str:
        return f"{self.msg_id} from {self.from_user}: {self.message.outgoing_text()[:200]!r}"

    @override
    def get_message(self) -> Message:
        return self.message

    @override
    def is_tome(self) -> bool:
        return True  # a DM to the bot


class WeComMessageEvent(MessageEvent):
    """A staff member's message to the self-built app; user id = WeCom userid."""

    platform: Platform = "wecom"
    agent_id: int


class OAMessageEvent(MessageEvent):
    """A follower's message to the Official Account; user id = openid."""

    platform: Platform = "oa"


class NoticeEvent(Event):
    @override
    def get_type(self) -> str:
        return "notice"


class ExternalChatChangeEvent(NoticeEvent):
    """WeCom 客户群变更 (change_external_chat). `change_type`: create | update |
    dismiss; for update, `update_detail`: add_member | del_member | change_owner |
    change_name | change_notice; `member_ids` when WeCom lists them."""

    platform: Platform = "wecom"
    change_type: str
    chat_id: str
    update_detail: str | None = None
    join_scene: int | None = None  # 0 invited by a member, 1 by link, 3 by QR code
    quit_scene: int | None = None  # 0 left, 1 removed by the owner
    mem_change_cnt: int | None = None
    member_ids: list[str] = []

    @override
    def get_event_name(self) -> str:
        detail = f".{self.update_detail}" if self.update_detail else ""
        return f"notice.wecom.change_external_chat.{self.change_type}{detail}"

    @override
    def get_event_description(self) -> str:
        return (
            f"chat {self.chat_id} {self.change_type} {self.update_detail or ''} {self.member_ids}"
        )

    @override
    def get_user_id(self) -> str:
        raise ValueError("a customer-group change has no single user")

    @override
    def get_session_id(self) -> str:
        return f"wecom_group:{self.chat_id}"


class ExternalContactChangeEvent(NoticeEvent):
    """WeCom 客户联系变更 (change_external_contact), e.g. add_external_contact: a
    customer added staff member `staff_user_id`, through a contact way whose
    `state` (our referral code) is carried along. User id = external userid."""

    platform: Platform = "wecom"
    change_type: str
    staff_user_id: str
    external_user_id: str
    state: str | None = None
    welcome_code: str | None = None

    @override
    def get_event_name(self) -> str:
        return f"notice.wecom.change_external_contact.{self.change_type}"

    @override
    def get_event_description(self) -> str:
        return f"{self.change_type} {self.external_user_id} via {self.staff_user_id} state={self.state!r}"

    @override
    def get_user_id(self) -> str:
        return self.external_user_id


# -- parsing -----------------------------------------------------------------------


def _text(fields: Mapping[str, Any], name: str, limit: int = 256) -> str | None:
    value = fields.get(name)
    if isinstance(value, str) and 0 < len(value) <= limit:
        return value
    return None


def _int(fields: Mapping[str, Any], name: str) -> int | None:
    value = fields.get(name)
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


def _members(fields: Mapping[str, Any]) -> list[str]:
    listed = fields.get("MemChangeList")
    items = listed.get("Item") if isinstance(listed, dict) else None
    if isinstance(items, str):
        items = [items]
    return [i for i in items or [] if isinstance(i, str) and len(i) <= 64][:500]


def _message(fields: Mapping[str, Any], msg_type: str) -> Message | None:
    if msg_type == "text":
        content = fields.get("Content") or ""  # <Content/> parses as None
        if not isinstance(content, str) or len(content) > MAX_TEXT:
            return None
        return Message(MessageSegment.text(content))
    kept = {k: v for k, v in fields.items() if isinstance(v, str) and k not in ("ToUserName",)}
    return Message(MessageSegment.other(msg_type, kept))


def parse_event(platform: Platform, self_id: str, fields: Mapping[str, Any]) -> Event | None:
    """The adapter event for a decrypted callback, or None for what we do not handle."""
    base: dict[str, Any] = {
        "self_id": self_id,
        "to_user": _text(fields, "ToUserName", 128) or "",
        "from_user": _text(fields, "FromUserName", 128),
        "create_time": _int(fields, "CreateTime"),
        "raw": {k: v for k, v in fields.items()},
    }
    if base["from_user"] is None or base["create_time"] is None:
        return None
    msg_type = str(fields.get("MsgType", "")).lower()
    if msg_type != "event":
        msg_id = _int(fields, "MsgId")
        message = _message(fields, msg_type)
        if msg_id is None or message is None or not msg_type.isalpha():
            return None
        common = {**base, "msg_id": msg_id, "msg_type": msg_type, "message": message}
        if platform == "oa":
            return OAMessageEvent(**common)
        agent = _int(fields, "AgentID")
        return None if agent is None else WeComMessageEvent(**common, agent_id=agent)
    event = str(fields.get("Event", "")).lower()
    if platform == "wecom" and event == "change_external_chat":
        chat_id, change = _text(fields, "ChatId", 128), _text(fields, "ChangeType", 32)
        if chat_id is None or change is None:
            return None
        return ExternalChatChangeEvent(
            **base,
            change_type=change,
            chat_id=chat_id,
            update_detail=_text(fields, "UpdateDetail", 32),
            join_scene=_int(fields, "JoinScene"),
            quit_scene=_int(fields, "QuitScene"),
            mem_change_cnt=_int(fields, "MemChangeCnt"),
            member_ids=_members(fields),
        )
    if platform == "wecom" and event == "change_external_contact":
        change = _text(fields, "ChangeType", 32)
        staff, external = _text(fields, "UserID", 64), _text(fields, "ExternalUserID", 64)
        if change is None or staff is None or external is None:
            return None
        return ExternalContactChangeEvent(
            **base,
            change_type=change,
            staff_user_id=staff,
            external_user_id=external,
            state=_text(fields, "State", 64),
            welcome_code=_text(fields, "WelcomeCode", 256),
        )
    return None
