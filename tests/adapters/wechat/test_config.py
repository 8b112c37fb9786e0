"""Settings: each app enabled by its complete section; partial or invalid
settings are a clear error naming the keys, never the secrets."""

from __future__ import annotations

import pytest

from bot.adapters.wechat.message import Message, MessageSegment, chunks
from bot.settings import wechat_settings
from desk import ConfigError
from tests.support.wechat_callbacks import settings_env

FULL = settings_env("http://127.0.0.1:9")


def only(prefix: str) -> dict[str, str]:
    return {k: v for k, v in FULL.items() if k.startswith(prefix)}


def test_nothing_set_means_disabled() -> None:
    settings = wechat_settings({}, {})
    assert not settings.enabled and settings.wecom is None and settings.oa is None


def test_each_section_alone() -> None:
    wecom = wechat_settings({}, only("WECOM_"))
    assert wecom.wecom is not None and wecom.oa is None
    assert wecom.wecom.self_id == "wecom:wwcorp0001:1000002"
    assert wecom.wecom_api == "https://qyapi.weixin.qq.com/cgi-bin/"
    oa = wechat_settings({}, only("WECHAT_OA_"))
    assert (
        oa.oa is not None and oa.wecom is None and oa.oa_api == "https://api.weixin.qq.com/cgi-bin/"
    )


def test_api_base_points_both_apps_at_one_host() -> None:
    settings = wechat_settings({}, FULL | {"WECHAT_API_BASE": "http://127.0.0.1:9/"})
    assert settings.wecom_api == settings.oa_api == "http://127.0.0.1:9/cgi-bin/"


def test_dotenv_values_count_and_the_environment_wins() -> None:
    dotenv = {k.lower(): v for k, v in only("WECOM_").items()}
    settings = wechat_settings(dotenv, {"WECOM_AGENT_ID": "1000009"})
    assert settings.wecom is not None and settings.wecom.agent_id == 1000009


@pytest.mark.parametrize(
    ("drop", "named"),
    [("WECOM_SECRET", "WECOM_SECRET"), ("WECHAT_OA_AES_KEY", "WECHAT_OA_AES_KEY")],
)
def test_partial_section_names_the_missing_key(drop: str, named: str) -> None:
    env = {k: v for k, v in FULL.items() if k != drop}
    with pytest.raises(ConfigError) as info:
        wechat_settings({}, env)
    assert f"{named}: missing" in str(info.value)
    assert FULL["WECOM_SECRET"] not in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("WECOM_AGENT_ID", "abc"),
        ("WECOM_AES_KEY", "short"),
        ("WECHAT_OA_AES_KEY", "!" * 43),
        ("WECOM_TOKEN", "has space"),
        ("WECHAT_API_BASE", "ftp://x"),
        ("WECHAT_TIMEOUT", "0"),
    ],
)
def test_invalid_values_are_named(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        wechat_settings({}, FULL | {key: value})
    assert key in str(info.value)


def test_contact_secret_needs_the_app() -> None:
    with pytest.raises(ConfigError, match="WECOM_CONTACT_SECRET"):
        wechat_settings({}, only("WECHAT_OA_") | {"WECOM_CONTACT_SECRET": "x"})


def test_blank_values_count_as_unset() -> None:
    assert not wechat_settings({}, {k: " " for k in FULL}).enabled


def test_chunks_respect_the_byte_limit_and_characters() -> None:
    assert chunks("") == [""]
    assert chunks("短消息") == ["短消息"]
    text = "汽" * 1000  # 3000 bytes, no line breaks
    pieces = chunks(text)
    assert "".join(pieces) == text and all(len(p.encode()) <= 2000 for p in pieces)
    emoji = "😀" * 700
    assert "".join(chunks(emoji)) == emoji


def test_message_text_and_markdown() -> None:
    message = Message("你好") + MessageSegment.markdown("**重要**")
    assert message.extract_plain_text() == "你好"
    assert message.outgoing_text() == "你好**重要**" and message.is_markdown()
    assert not Message(MessageSegment.other("image", {"MediaId": "m"})).extract_plain_text()
