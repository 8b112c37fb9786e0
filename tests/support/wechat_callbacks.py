"""Real encrypted WeChat callbacks, built with wechatpy's own crypto classes."""

from __future__ import annotations

import base64
import time
from itertools import count
from urllib.parse import urlencode

from wechatpy.crypto import WeChatCrypto as OACrypto
from wechatpy.work.crypto import WeChatCrypto as WeComCrypto
from xmltodict import parse

from bot.adapters.wechat.callback import signature
from tests.support.fake_wechat import AGENT_ID, CORP_ID, OA_APP_ID

WECOM_TOKEN = "WeComToken123"
OA_TOKEN = "OaToken456"
WECOM_AES = base64.b64encode(bytes(range(32))).decode()[:43]
OA_AES = base64.b64encode(bytes(range(100, 132))).decode()[:43]
_msg_ids = count(7_000_000_000_000_000_001)
_nonces = count(1)


def wecom_crypto(corp_id: str = CORP_ID, aes: str = WECOM_AES) -> WeComCrypto:
    return WeComCrypto(WECOM_TOKEN, aes, corp_id)


def oa_crypto(app_id: str = OA_APP_ID) -> OACrypto:
    return OACrypto(OA_TOKEN, OA_AES, app_id)


def next_msg_id() -> int:
    return next(_msg_ids)


def wecom_text(user: str, content: str, *, msg_id: int | None = None, agent: int = AGENT_ID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next_msg_id()}</MsgId>"
        f"<AgentID>{agent}</AgentID></xml>"
    )


def oa_text(openid: str, content: str, *, msg_id: int | None = None) -> str:
    return (
        "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName>"
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id or next_msg_id()}</MsgId></xml>"
    )


def external_chat_change(
    chat_id: str, detail: str = "add_member", *, members: tuple[str, ...] = ("wmEXTERNAL01",)
) -> str:
    items = "".join(f"<Item><![CDATA[{m}]]></Item>" for m in members)
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_chat]]></Event>"
        f"<ChatId><![CDATA[{chat_id}]]></ChatId><ChangeType><![CDATA[update]]></ChangeType>"
        f"<UpdateDetail><![CDATA[{detail}]]></UpdateDetail><JoinScene>3</JoinScene>"
        f"<QuitScene>0</QuitScene><MemChangeCnt>{len(members)}</MemChangeCnt>"
        f"<MemChangeList>{items}</MemChangeList></xml>"
    )


def external_contact_add(staff: str, external: str, state: str | None) -> str:
    state_xml = f"<State><![CDATA[{state}]]></State>" if state else ""
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        "<FromUserName><![CDATA[sys]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        "<ChangeType><![CDATA[add_external_contact]]></ChangeType>"
        f"<UserID><![CDATA[{staff}]]></UserID><ExternalUserID><![CDATA[{external}]]></ExternalUserID>"
        f"{state_xml}<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode></xml>"
    )


def _encrypt(crypto: WeComCrypto | OACrypto, xml: str, timestamp: int, nonce: str) -> str:
    return parse(crypto.encrypt_message(xml, nonce, str(timestamp)))["xml"]["Encrypt"]


def wecom_post(
    xml: str, *, timestamp: int | None = None, crypto: WeComCrypto | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) of a WeCom callback POST carrying `xml`."""
    ts, nonce = timestamp or int(time.time()), f"n{next(_nonces)}"
    encrypted = _encrypt(crypto or wecom_crypto(), xml, ts, nonce)
    query = {
        "msg_signature": signature(WECOM_TOKEN, str(ts), nonce, encrypted),
        "timestamp": str(ts),
        "nonce": nonce,
    }
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    )
    return query, body.encode()


def oa_post(
    xml: str, *, openid: str = "", timestamp: int | None = None
) -> tuple[dict[str, str], bytes]:
    """(query, body) of an Official Account safe-mode POST carrying `xml`."""
    ts, nonce = timestamp or int(time.time()), f"n{next(_nonces)}"
    encrypted = _encrypt(oa_crypto(), xml, ts, nonce)
    query = {
        "signature": signature(OA_TOKEN, str(ts), nonce),
        "timestamp": str(ts),
        "nonce": nonce,
        "openid": openid,
        "encrypt_type": "aes",
        "msg_signature": signature(OA_TOKEN, str(ts), nonce, encrypted),
    }
    body = f"<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return query, body.encode()


def wecom_verify_query(echo: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The admin console's GET check of the WeCom URL."""
    ts, nonce = timestamp or int(time.time()), f"n{next(_nonces)}"
    encrypted = _encrypt(wecom_crypto(), echo, ts, nonce)
    return {
        "msg_signature": signature(WECOM_TOKEN, str(ts), nonce, encrypted),
        "timestamp": str(ts),
        "nonce": nonce,
        "echostr": encrypted,
    }


def oa_verify_query(echo: str) -> dict[str, str]:
    ts, nonce = str(int(time.time())), f"n{next(_nonces)}"
    return {
        "signature": signature(OA_TOKEN, ts, nonce),
        "timestamp": ts,
        "nonce": nonce,
        "echostr": echo,
    }


def url(base: str, path: str, query: dict[str, str]) -> str:
    return f"{base}{path}?{urlencode(query)}"


def settings_env(api_base: str, *, contact: bool = True) -> dict[str, str]:
    """The environment of a bot with both apps, pointed at the fake API."""
    from tests.support.fake_wechat import CONTACT_SECRET, OA_SECRET, WECOM_SECRET

    env = {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": WECOM_SECRET,
        "WECOM_TOKEN": WECOM_TOKEN,
        "WECOM_AES_KEY": WECOM_AES,
        "WECHAT_OA_APP_ID": OA_APP_ID,
        "WECHAT_OA_SECRET": OA_SECRET,
        "WECHAT_OA_TOKEN": OA_TOKEN,
        "WECHAT_OA_AES_KEY": OA_AES,
        "WECHAT_API_BASE": api_base,
        "WECHAT_TIMEOUT": "3",
    }
    if contact:
        env["WECOM_CONTACT_SECRET"] = CONTACT_SECRET
    return env
