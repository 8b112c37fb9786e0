"""Decrypted callback fields -> adapter events; what is incomplete or unknown is
dropped (None), whatever the text."""

from __future__ import annotations

import pytest

from bot.adapters.wechat.callback import parse_xml
from bot.adapters.wechat.event import (
    ExternalChatChangeEvent,
    OAMessageEvent,
    WeComMessageEvent,
    parse_event,
)
from tests.support.wechat_callbacks import (
    external_chat_change,
    external_contact_add,
    oa_text,
    wecom_text,
)

WECOM = "wecom:wwcorp0001:1000002"


def fields(xml: str) -> dict:
    return parse_xml(xml)


@pytest.mark.parametrize(
    "text", ["", " ", "x" * 2000, "😀🚗", "'; DROP TABLE leads; --", "[CQ:at,qq=all]", "a\tb\nc"]
)
def test_any_text_becomes_a_message(text: str) -> None:
    event = parse_event("wecom", WECOM, fields(wecom_text("zhangsan", text)))
    assert isinstance(event, WeComMessageEvent)
    assert event.get_plaintext() == text


def test_oa_text() -> None:
    event = parse_event("oa", "oa:wx1", fields(oa_text("o_1", "你好")))
    assert isinstance(event, OAMessageEvent) and event.get_session_id() == "oa:o_1"


@pytest.mark.parametrize("missing", ["FromUserName", "CreateTime", "MsgId", "AgentID"])
def test_incomplete_wecom_message_is_dropped(missing: str) -> None:
    data = fields(wecom_text("zhangsan", "hi"))
    del data[missing]
    assert parse_event("wecom", WECOM, data) is None


def test_bad_numbers_are_dropped() -> None:
    data = fields(wecom_text("zhangsan", "hi")) | {"MsgId": "12abc"}
    assert parse_event("wecom", WECOM, data) is None
    data = fields(wecom_text("zhangsan", "hi")) | {"CreateTime": "-1"}
    assert parse_event("wecom", WECOM, data) is None


def test_non_text_message_has_no_text() -> None:
    data = fields(wecom_text("zhangsan", "x")) | {
        "MsgType": "image",
        "PicUrl": "http://p",
        "MediaId": "m1",
    }
    data.pop("Content")
    event = parse_event("wecom", WECOM, data)
    assert event is not None and event.get_plaintext() == ""
    assert event.get_message()[0].type == "image"


def test_group_change_single_member_and_no_list() -> None:
    event = parse_event(
        "wecom", WECOM, fields(external_chat_change("wr1", "del_member", members=("wmA",)))
    )
    assert isinstance(event, ExternalChatChangeEvent) and event.member_ids == ["wmA"]
    assert event.get_session_id() == "wecom_group:wr1"
    with pytest.raises(ValueError):
        event.get_user_id()
    bare = fields(external_chat_change("wr1")) | {"MemChangeList": None}
    event = parse_event("wecom", WECOM, bare)
    assert isinstance(event, ExternalChatChangeEvent) and event.member_ids == []


def test_contact_add_without_state() -> None:
    event = parse_event("wecom", WECOM, fields(external_contact_add("wangguwen", "wmE", None)))
    assert event is not None and getattr(event, "state", "x") is None


def test_customer_events_only_on_wecom_and_unknown_events_dropped() -> None:
    assert parse_event("oa", "oa:wx1", fields(external_chat_change("wr1"))) is None
    data = fields(external_chat_change("wr1")) | {"Event": "enter_agent"}
    assert parse_event("wecom", WECOM, data) is None
    data = fields(external_chat_change("wr1"))
    del data["ChatId"]
    assert parse_event("wecom", WECOM, data) is None
