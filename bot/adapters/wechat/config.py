"""WeChat settings: a WeCom self-built app and/or an Official Account.

Each section is enabled when all of its keys are set and off when none is; a
section with only some keys set stops the start (a half-configured app would
silently drop every callback). bot.settings collects the keys (NoneBot's config
with the environment winning, as for every setting) and calls `parse_settings`;
the adapter gets the result. Secrets are never logged or put into error messages.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

WECOM_KEYS = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
OA_KEYS = ("WECHAT_OA_APP_ID", "WECHAT_OA_SECRET", "WECHAT_OA_TOKEN", "WECHAT_OA_AES_KEY")
OPTIONAL_KEYS = ("WECOM_CONTACT_SECRET", "WECHAT_API_BASE", "WECHAT_TIMEOUT")
ALL_KEYS = WECOM_KEYS + OA_KEYS + OPTIONAL_KEYS

WECOM_API_BASE = "https://qyapi.weixin.qq.com"
OA_API_BASE = "https://api.weixin.qq.com"
DEFAULT_TIMEOUT = 10.0

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")  # WeChat's own rule for the callback token
_BASE = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class WeComSettings(_Frozen):
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    contact_secret: str | None = None  # 客户联系 secret: customer groups, contact ways

    @property
    def self_id(self) -> str:
        return f"wecom:{self.corp_id}:{self.agent_id}"


class OASettings(_Frozen):
    app_id: str
    secret: str
    token: str
    aes_key: str

    @property
    def self_id(self) -> str:
        return f"oa:{self.app_id}"


class WeChatSettings(_Frozen):
    wecom: WeComSettings | None = None
    oa: OASettings | None = None
    api_base: str | None = None  # one host for every call (a proxy, a fake server)
    timeout: float = DEFAULT_TIMEOUT

    @property
    def enabled(self) -> bool:
        return self.wecom is not None or self.oa is not None

    @property
    def wecom_api(self) -> str:
        return (self.api_base or WECOM_API_BASE) + "/cgi-bin/"

    @property
    def oa_api(self) -> str:
        return (self.api_base or OA_API_BASE) + "/cgi-bin/"


def _aes_key(key: str, values: Mapping[str, str], problems: list[str]) -> str:
    value = values[key]
    try:
        decoded = base64.b64decode(value + "=", validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(value) != 43 or len(decoded) != 32:
        problems.append(f"{key}: must be the 43-character EncodingAESKey from the admin console")
    return value


def _section(keys: tuple[str, ...], values: Mapping[str, str], problems: list[str]) -> bool:
    present = [k for k in keys if k in values]
    if present and len(present) != len(keys):
        missing = ", ".join(k for k in keys if k not in values)
        problems.append(f"{missing}: missing (set all of {', '.join(keys)} or none)")
    return len(present) == len(keys)


def _check_id(key: str, values: Mapping[str, str], problems: list[str], pattern=_ID) -> str:
    if not pattern.match(values[key]):
        problems.append(f"{key}: invalid value")
    return values[key]


def parse_settings(values: Mapping[str, str]) -> WeChatSettings:
    """Validated settings from the set keys (upper-case names, blank ones left out);
    raises ValueError naming every bad key (bot.settings makes it a desk.ConfigError)."""
    problems: list[str] = []
    wecom = oa = None
    if _section(WECOM_KEYS, values, problems):
        agent = values["WECOM_AGENT_ID"]
        if not agent.isdigit() or not 0 < int(agent) < 2**31:
            problems.append("WECOM_AGENT_ID: must be the app's numeric AgentId")
        wecom = WeComSettings(
            corp_id=_check_id("WECOM_CORP_ID", values, problems),
            agent_id=int(agent) if agent.isdigit() else 0,
            secret=values["WECOM_SECRET"],
            token=_check_id("WECOM_TOKEN", values, problems, _TOKEN),
            aes_key=_aes_key("WECOM_AES_KEY", values, problems),
            contact_secret=values.get("WECOM_CONTACT_SECRET"),
        )
    elif "WECOM_CONTACT_SECRET" in values:
        problems.append("WECOM_CONTACT_SECRET: needs the WECOM_* app settings too")
    if _section(OA_KEYS, values, problems):
        oa = OASettings(
            app_id=_check_id("WECHAT_OA_APP_ID", values, problems),
            secret=values["WECHAT_OA_SECRET"],
            token=_check_id("WECHAT_OA_TOKEN", values, problems, _TOKEN),
            aes_key=_aes_key("WECHAT_OA_AES_KEY", values, problems),
        )
    api_base = values.get("WECHAT_API_BASE")
    if api_base is not None:
        api_base = api_base.rstrip("/")
        if not _BASE.match(api_base):
            problems.append("WECHAT_API_BASE: must be an http(s):// URL such as https://proxy:8443")
    timeout = DEFAULT_TIMEOUT
    if "WECHAT_TIMEOUT" in values:
        try:
            timeout = float(values["WECHAT_TIMEOUT"])
        except ValueError:
            timeout = -1.0
        if not 0.1 <= timeout <= 120:
            problems.append("WECHAT_TIMEOUT: seconds between 0.1 and 120")
    if problems:
        raise ValueError("WeChat settings: " + "; ".join(problems))
    return WeChatSettings(wecom=wecom, oa=oa, api_base=api_base, timeout=timeout)
