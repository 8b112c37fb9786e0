"""Callback security, free of NoneBot: signature, time window, decryption, replays.

WeChat signs every callback with SHA1 over the sorted (token, timestamp,
nonce[, Encrypt]) and encrypts the message with AES-256-CBC (the key is the
EncodingAESKey; the plaintext ends with the corp id / app id it is meant for).

Order matters: the signature is checked (in constant time) and the timestamp
windowed BEFORE anything is decrypted, so a forged request costs one SHA1.
Any problem raises `Refused(reason)`; the caller answers 403 and logs the
reason (which never contains a secret or the body).

WeChat retries an unanswered callback three times within 5 s and the same
request may be replayed by anyone who captured it: `ReplayGuard` remembers
each message's identity for longer than the time window, so a copy has no
second effect; `durable_key` is what the adapter records in the desk, so a
copy replayed after a restart has none either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto.base import WeChatCipher

from bot.dedupe import TTLSet

WINDOW_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
REPLAY_TTL_SECONDS = 3 * WINDOW_SECONDS  # longer than any timestamp we still accept
REPLAY_MAX = 50_000


class Refused(Exception):
    """The request is not a genuine, fresh WeChat callback; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def signature(*parts: str) -> str:
    """WeChat's SHA1 over the sorted parts."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _param(query: Mapping[str, str], name: str, limit: int = 128) -> str:
    value = query.get(name)
    if not value or len(value) > limit:
        raise Refused(f"missing or oversized query parameter {name!r}")
    return value


def _check_signature(given: str, *parts: str) -> None:
    if not hmac.compare_digest(given.encode("utf-8"), signature(*parts).encode("utf-8")):
        raise Refused("bad signature")


def _check_time(timestamp: str, now: float, window: int) -> None:
    if not timestamp.isdigit() or len(timestamp) > 12:
        raise Refused("malformed timestamp")
    if abs(now - int(timestamp)) > window:
        raise Refused(f"timestamp {timestamp} outside ±{window}s")


def parse_xml(text: str) -> dict[str, Any]:
    """The <xml> root as a dict; refuses DTDs (entity tricks) and anything not <xml>."""
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise Refused("XML with a DTD")
    try:
        root = xmltodict.parse(text, disable_entities=True, strip_whitespace=False)
    except (ExpatError, ValueError) as exc:
        raise Refused(f"malformed XML: {type(exc).__name__}") from None
    data = root.get("xml") if isinstance(root, dict) else None
    if not isinstance(data, dict):
        raise Refused("XML without an <xml> root")
    return data


@dataclass(frozen=True)
class CallbackKeys:
    token: str
    aes_key: str  # 43-character EncodingAESKey
    receive_id: str  # corp id (WeCom) or app id (Official Account)

    @property
    def key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")


def decrypt(keys: CallbackKeys, encrypted: str) -> str:
    """The plaintext of an `Encrypt` value, checked to be meant for our receive id.
    Strict where wechatpy is lenient (padding, length field, trailing id)."""
    try:
        raw = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("Encrypt is not base64") from None
    if not raw or len(raw) % 16:
        raise Refused("Encrypt has a bad length")
    plain = WeChatCipher(keys.key).decrypt(raw)
    pad = plain[-1]
    if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
        raise Refused("bad padding")
    content = plain[16:-pad]  # 16 random bytes, then length, message, receive id
    if len(content) < 4:
        raise Refused("decrypted message too short")
    length = socket.ntohl(struct.unpack("I", content[:4])[0])
    if length > len(content) - 4:
        raise Refused("bad length field")
    receive_id = content[4 + length :]
    if not hmac.compare_digest(receive_id, keys.receive_id.encode("utf-8")):
        raise Refused("message is for another corp id / app id")
    try:
        return content[4 : 4 + length].decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("decrypted message is not UTF-8") from None


class Verifier:
    """One callback URL's checks: `verify_url` for the admin console's GET, `open`
    for each POST. `kind` is "wecom" (echostr encrypted, msg_signature) or "oa"
    (echostr plain, signature; POSTs in safe mode only)."""

    def __init__(
        self,
        keys: CallbackKeys,
        kind: str,
        *,
        clock: Callable[[], float] = time.time,
        window: int = WINDOW_SECONDS,
    ) -> None:
        if kind not in ("wecom", "oa"):
            raise ValueError(kind)
        self.keys, self.kind, self.clock, self.window = keys, kind, clock, window

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The text to answer the URL check with."""
        timestamp, nonce = _param(query, "timestamp"), _param(query, "nonce")
        if self.kind == "wecom":
            echo = _param(query, "echostr", 1024)
            _check_signature(
                _param(query, "msg_signature"), self.keys.token, timestamp, nonce, echo
            )
            _check_time(timestamp, self.clock(), self.window)
            return decrypt(self.keys, echo)
        echo = _param(query, "echostr", 1024)
        _check_signature(_param(query, "signature"), self.keys.token, timestamp, nonce)
        _check_time(timestamp, self.clock(), self.window)
        return echo

    def open(self, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """The decrypted message of a POST, as a dict of its XML fields."""
        if len(body) > MAX_BODY_BYTES:
            raise Refused(f"body of {len(body)} bytes")
        timestamp, nonce = _param(query, "timestamp"), _param(query, "nonce")
        msg_signature = _param(query, "msg_signature")
        if self.kind == "oa":
            if query.get("encrypt_type") != "aes":
                raise Refused("plaintext (non-safe-mode) callback")
            if "signature" in query:  # both signatures are sent in safe mode
                _check_signature(query["signature"], self.keys.token, timestamp, nonce)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Refused("body is not UTF-8") from None
        encrypted = parse_xml(text).get("Encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise Refused("no Encrypt element")
        _check_signature(msg_signature, self.keys.token, timestamp, nonce, encrypted)
        _check_time(timestamp, self.clock(), self.window)
        message = parse_xml(decrypt(self.keys, encrypted))
        if not isinstance(message.get("MsgType"), str):
            raise Refused("decrypted message has no MsgType")
        return message


def message_key(message: Mapping[str, Any]) -> str:
    """A message's identity: its MsgId; for events (no MsgId) the whole content,
    which WeChat repeats unchanged in its retries (CreateTime included)."""
    msg_id = message.get("MsgId")
    if isinstance(msg_id, str) and msg_id.strip("0"):
        return f"msg:{msg_id}"
    body = json.dumps(message, sort_keys=True, ensure_ascii=False, default=str)
    return "event:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def durable_key(platform: str, self_id: str, message: Mapping[str, Any]) -> str:
    """The key a message is recorded under in the desk (processed_events, at most
    160 characters), so a copy replayed after a restart has no second effect."""
    digest = hashlib.sha256(f"{self_id}\n{message_key(message)}".encode()).hexdigest()
    return f"wechat:{platform}:{digest}"


class ReplayGuard:
    """`first(app, message)`: True the first time a message is seen."""

    def __init__(
        self, ttl: float = REPLAY_TTL_SECONDS, max_size: int = REPLAY_MAX, clock=time.monotonic
    ) -> None:
        self.seen = TTLSet(ttl, max_size, clock)

    def first(self, app: str, message: Mapping[str, Any]) -> bool:
        return self.seen.add((app, message_key(message)))
