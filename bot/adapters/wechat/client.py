"""Async calls to WeCom and the Official Account over wechatpy.

wechatpy is synchronous (requests): every call runs in a worker thread with a
timeout, and an outer deadline bounds even a server that trickles its answer.
All calls (the token fetch included, which wechatpy sends to the real host
with no timeout) go to `settings.wecom_api` / `settings.oa_api`, so
WECHAT_API_BASE can point them at a proxy or a test server.

Tokens come from the shared `TokenCache`; a call rejected for its token
(40001/40014/42001) drops that token and is made once more with a fresh one
(safe: WeChat refused it before acting).

Errors: `ApiError` (WeChat answered with an error code: nothing happened) and
`NetworkError` (`uncertain` when the request may have reached WeChat, e.g. a
read timeout: the caller must not resend blindly).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
import urllib3.exceptions
import wechatpy
import wechatpy.work
from nonebot.exception import ActionFailed, AdapterException
from nonebot.exception import NetworkError as BaseNetworkError
from wechatpy.exceptions import WeChatClientException

from bot.adapters.wechat.config import OASettings, WeChatSettings, WeComSettings
from bot.adapters.wechat.tokens import TokenCache, TokenKey, secret_scope

# urllib3 logs request lines, access_token and corpsecret included, at DEBUG.
logging.getLogger("urllib3").setLevel(logging.INFO)

T = TypeVar("T")

INVALID_TOKEN = frozenset({40001, 40014, 42001})
# Codes that will not change on a retry: unknown/invalid user, user outside the
# app's visible range, OA user not reachable (unsubscribed, 48 h window over).
PERMANENT = frozenset({40003, 60111, 81013, 43004, 45015, 45047, 40013, 40056})
CONTACT_WAY_STATE_MAX = 30  # WeCom's limit for `state`


ADAPTER = "WeChat"


class WeChatError(AdapterException):
    """The call cannot be made (e.g. the contact secret is not configured)."""

    def __init__(self, message: str) -> None:
        super().__init__(ADAPTER, message)


class ApiError(ActionFailed):
    """WeChat answered with an error code: the call had no effect."""

    def __init__(self, action: str, errcode: int | None, errmsg: str) -> None:
        super().__init__(ADAPTER, f"{action}: errcode {errcode}: {errmsg}")
        self.action, self.errcode, self.errmsg = action, errcode, errmsg

    @property
    def retryable(self) -> bool:
        return self.errcode not in PERMANENT


class NetworkError(BaseNetworkError):
    """No usable answer; `uncertain` when WeChat may have acted on the request."""

    def __init__(self, action: str, detail: str, *, uncertain: bool) -> None:
        super().__init__(ADAPTER, f"{action}: {detail}")
        self.action, self.uncertain = action, uncertain


class _CachedToken:
    """Mixin for wechatpy clients: the token is whatever the cache holds now; the
    async side made sure it is fresh just before the call."""

    _token_lookup: Callable[[], str | None]

    @property
    def access_token(self) -> str:
        token = self._token_lookup()
        if token is None:
            raise WeChatClientException(40014, "no fresh access token in the cache")
        return token

    def fetch_access_token(self) -> Any:  # wechatpy's own fetch: no timeout, fixed host
        raise WeChatClientException(40014, "token fetches go through the adapter's cache")


class _WorkSdk(_CachedToken, wechatpy.work.WeChatClient):  # pyright: ignore[reportIncompatibleVariableOverride]
    pass


class _OASdk(_CachedToken, wechatpy.WeChatClient):  # pyright: ignore[reportIncompatibleVariableOverride]
    pass


def _maybe_sent(exc: requests.RequestException) -> bool:
    """False only when the request surely never left: no connection was made."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        return not isinstance(inner, urllib3.exceptions.NewConnectionError)
    return True


def _translate(action: str, fn: Callable[[], T]) -> T:
    """Run a wechatpy call (in a worker thread), mapping failures to our errors."""
    try:
        result = fn()
    except WeChatClientException as exc:
        if exc.errcode is None:  # an HTTP error status: a proxy may have passed it on
            status = getattr(exc.response, "status_code", "?")
            raise NetworkError(action, f"HTTP {status}", uncertain=True) from None
        raise ApiError(action, int(exc.errcode), str(exc.errmsg)[:200]) from None
    except requests.RequestException as exc:
        raise NetworkError(action, type(exc).__name__, uncertain=_maybe_sent(exc)) from None
    if not isinstance(result, dict):
        raise NetworkError(action, "answer is not JSON", uncertain=True)
    return result  # pyright: ignore[reportReturnType]


@dataclass(frozen=True)
class Credential:
    key: TokenKey
    token_path: str  # "gettoken" (WeCom) | "token" (Official Account)
    params: dict[str, str]  # holds the secret: never logged


class AppApi:
    """One credential's calls: a wechatpy client fed by the token cache."""

    def __init__(
        self,
        sdk: _CachedToken,
        credential: Credential,
        tokens: TokenCache,
        api: str,
        timeout: float,
    ) -> None:
        self.sdk, self.credential, self.tokens, self.api = sdk, credential, tokens, api
        self.timeout = timeout
        sdk._token_lookup = lambda: tokens.current(credential.key)
        sdk.API_BASE_URL = api  # pyright: ignore[reportAttributeAccessIssue]
        sdk.timeout = (min(5.0, timeout), timeout)  # pyright: ignore[reportAttributeAccessIssue]
        sdk.auto_retry = False  # pyright: ignore[reportAttributeAccessIssue]

    async def _off_loop(self, action: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(_translate, action, fn), self.timeout * 2 + 1
            )
        except TimeoutError:
            raise NetworkError(action, "no complete answer in time", uncertain=True) from None

    def _fetch_sync(self) -> dict[str, Any]:
        http: requests.Session = self.sdk._http  # pyright: ignore[reportAttributeAccessIssue]
        res = http.get(
            self.api + self.credential.token_path,
            params=self.credential.params,
            timeout=(min(5.0, self.timeout), self.timeout),
        )
        try:
            data = res.json()
        except ValueError:
            raise WeChatClientException(None, f"HTTP {res.status_code}", response=res) from None
        if not isinstance(data, dict):
            raise WeChatClientException(None, "not a JSON object", response=res)
        if data.get("errcode"):
            raise WeChatClientException(data["errcode"], data.get("errmsg", ""))
        return data

    async def _fetch_token(self) -> tuple[str, int]:
        data = await self._off_loop("gettoken", self._fetch_sync)
        token, expires_in = data.get("access_token"), data.get("expires_in", 7200)
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise NetworkError("gettoken", "answer without a token", uncertain=False)
        return token, expires_in

    async def token(self) -> str:
        return await self.tokens.get(self.credential.key, self._fetch_token)

    async def call(self, action: str, fn: Callable[[Any], T]) -> T:
        for attempt in (1, 2):
            token = await self.token()
            try:
                return await self._off_loop(action, lambda: fn(self.sdk))
            except ApiError as exc:
                if exc.errcode in INVALID_TOKEN and attempt == 1:
                    self.tokens.invalidate(self.credential.key, token)
                    continue
                raise
        raise AssertionError("unreachable")


class WeComClient:
    """The self-built app (messages to staff) and, with WECOM_CONTACT_SECRET, the
    customer-contact API (its own token: separate cache key)."""

    def __init__(self, settings: WeComSettings, api: str, timeout: float, tokens: TokenCache):
        self.settings = settings

        def app(secret: str, scope: str) -> AppApi:
            credential = Credential(
                ("wecom", settings.corp_id, scope),
                "gettoken",
                {"corpid": settings.corp_id, "corpsecret": secret},
            )
            sdk = _WorkSdk(settings.corp_id, secret, timeout=timeout, auto_retry=False)
            return AppApi(sdk, credential, tokens, api, timeout)

        self.app = app(settings.secret, f"agent:{settings.agent_id}")
        self.contact = (
            app(settings.contact_secret, secret_scope(settings.contact_secret))
            if settings.contact_secret
            else None
        )

    def _contact_api(self) -> AppApi:
        if self.contact is None:
            raise WeChatError("WECOM_CONTACT_SECRET is not set")
        return self.contact

    async def _send(self, user_id: str, msg: dict[str, Any]) -> dict[str, Any]:
        agent = self.settings.agent_id
        result = await self.app.call(
            "message/send", lambda sdk: sdk.message.send(agent, user_id, msg=msg)
        )
        invalid = str(result.get("invaliduser") or "").split("|")
        if user_id in invalid:  # WeCom answers 0 but skips users it does not know
            raise ApiError("message/send", 81013, f"invalid user {user_id}")
        return result

    async def send_text(self, user_id: str, content: str) -> dict[str, Any]:
        return await self._send(user_id, {"msgtype": "text", "text": {"content": content}})

    async def send_markdown(self, user_id: str, content: str) -> dict[str, Any]:
        return await self._send(user_id, {"msgtype": "markdown", "markdown": {"content": content}})

    async def get_group_chat(self, chat_id: str) -> dict[str, Any]:
        """externalcontact/groupchat/get: the customer group with its member_list."""
        result = await self._contact_api().call(
            "externalcontact/groupchat/get",
            lambda sdk: sdk.external_contact_group_chat.get(chat_id),
        )
        group = result.get("group_chat")
        if not isinstance(group, dict):
            raise NetworkError("externalcontact/groupchat/get", "no group_chat", uncertain=False)
        return group

    async def add_contact_way(
        self, state: str, user_ids: list[str], *, remark: str | None = None
    ) -> dict[str, Any]:
        """A 联系我 QR code whose adds carry `state` (a referral code) in the
        change_external_contact event. Returns config_id and qr_code."""
        if not 0 < len(state) <= CONTACT_WAY_STATE_MAX:
            raise ValueError(f"state must be 1..{CONTACT_WAY_STATE_MAX} characters")
        if not user_ids:
            raise ValueError("user_ids must name at least one staff member")
        kind = 1 if len(user_ids) == 1 else 2
        return await self._contact_api().call(
            "externalcontact/add_contact_way",
            lambda sdk: sdk.external_contact.add_contact_way(
                type=kind, scene=2, state=state, user=user_ids, remark=remark
            ),
        )

    async def add_group_msg_template(
        self, sender: str, text: str, chat_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """A mass-send task to customer groups: the group owner `sender` confirms it
        in WeCom before anything is sent. Returns msgid and fail_list."""
        template: dict[str, Any] = {
            "chat_type": "group",
            "sender": sender,
            "text": {"content": text},
        }
        if chat_ids:
            template["chat_id_list"] = chat_ids
        return await self._contact_api().call(
            "externalcontact/add_msg_template",
            lambda sdk: sdk.external_contact.add_msg_template(template=template),
        )


class OAClient:
    """The Official Account: customer-service messages (allowed within 48 h of the
    user's last message to the account)."""

    def __init__(self, settings: OASettings, api: str, timeout: float, tokens: TokenCache):
        self.settings = settings
        credential = Credential(
            ("oa", settings.app_id, secret_scope(settings.secret)),
            "token",
            {
                "grant_type": "client_credential",
                "appid": settings.app_id,
                "secret": settings.secret,
            },
        )
        sdk = _OASdk(settings.app_id, settings.secret, timeout=timeout, auto_retry=False)
        self.app = AppApi(sdk, credential, tokens, api, timeout)

    async def send_text(self, open_id: str, content: str) -> dict[str, Any]:
        return await self.app.call(
            "message/custom/send", lambda sdk: sdk.message.send_text(open_id, content)
        )


@dataclass
class Clients:
    wecom: WeComClient | None
    oa: OAClient | None
    tokens: TokenCache


def make_clients(settings: WeChatSettings, tokens: TokenCache | None = None) -> Clients:
    tokens = tokens or TokenCache()
    return Clients(
        wecom=WeComClient(settings.wecom, settings.wecom_api, settings.timeout, tokens)
        if settings.wecom
        else None,
        oa=OAClient(settings.oa, settings.oa_api, settings.timeout, tokens)
        if settings.oa
        else None,
        tokens=tokens,
    )
