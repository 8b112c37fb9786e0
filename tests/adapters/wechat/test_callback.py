"""Callback security without NoneBot: signature before decryption, time window,
receive id, malformed input, replays."""

from __future__ import annotations

import time

import pytest

from bot.adapters.wechat import callback
from bot.adapters.wechat.callback import CallbackKeys, Refused, ReplayGuard, Verifier
from tests.support.fake_wechat import CORP_ID, OA_APP_ID
from tests.support.wechat_callbacks import (
    OA_AES,
    OA_TOKEN,
    WECOM_AES,
    WECOM_TOKEN,
    oa_post,
    oa_text,
    oa_verify_query,
    wecom_crypto,
    wecom_post,
    wecom_text,
    wecom_verify_query,
)

WECOM = Verifier(CallbackKeys(WECOM_TOKEN, WECOM_AES, CORP_ID), "wecom")
OA = Verifier(CallbackKeys(OA_TOKEN, OA_AES, OA_APP_ID), "oa")


def refused(fn, *args) -> str:
    with pytest.raises(Refused) as info:
        fn(*args)
    return info.value.reason


def test_genuine_wecom_message_opens() -> None:
    query, body = wecom_post(wecom_text("zhangsan", "你好 <b>&amp;", msg_id=42))
    fields = WECOM.open(query, body)
    assert fields["FromUserName"] == "zhangsan"
    assert fields["Content"] == "你好 <b>&amp;"
    assert fields["MsgId"] == "42"


def test_genuine_oa_message_opens() -> None:
    query, body = oa_post(oa_text("o_openid_1", "想了解一下新车"))
    assert OA.open(query, body)["Content"] == "想了解一下新车"


def test_url_verification() -> None:
    assert WECOM.verify_url(wecom_verify_query("echo-123")) == "echo-123"
    assert OA.verify_url(oa_verify_query("oa-echo")) == "oa-echo"
    bad = wecom_verify_query("echo-123") | {"msg_signature": "0" * 40}
    assert refused(WECOM.verify_url, bad) == "bad signature"
    stale = wecom_verify_query("x", timestamp=int(time.time()) - 301)
    assert "outside" in refused(WECOM.verify_url, stale)
    assert "echostr" in refused(
        OA.verify_url, {k: v for k, v in oa_verify_query("e").items() if k != "echostr"}
    )


def test_forged_signature_is_refused_before_decryption(monkeypatch: pytest.MonkeyPatch) -> None:
    decrypted = []
    monkeypatch.setattr(callback, "decrypt", lambda *a: decrypted.append(a) or "")
    query, body = wecom_post(wecom_text("zhangsan", "hi"))
    query["msg_signature"] = query["msg_signature"][:-1] + (
        "0" if query["msg_signature"][-1] != "0" else "1"
    )
    assert refused(WECOM.open, query, body) == "bad signature"
    # a correct signature over a different ciphertext is a forgery too
    _, other_body = wecom_post(wecom_text("lisi", "hi"))
    assert (
        refused(
            WECOM.open,
            query | {"msg_signature": wecom_post("<xml/>")[0]["msg_signature"]},
            other_body,
        )
        == "bad signature"
    )
    assert decrypted == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_stale_or_future_timestamp_is_refused(skew: int) -> None:
    query, body = wecom_post(wecom_text("zhangsan", "hi"), timestamp=int(time.time()) + skew)
    assert "outside" in refused(WECOM.open, query, body)


def test_timestamp_inside_window_is_accepted() -> None:
    query, body = wecom_post(wecom_text("zhangsan", "hi"), timestamp=int(time.time()) - 290)
    assert WECOM.open(query, body)["Content"] == "hi"


def test_message_for_another_corp_is_refused() -> None:
    """Same token and key, but encrypted for another corp id (the receive id)."""
    query, body = wecom_post(wecom_text("zhangsan", "hi"), crypto=wecom_crypto("wwOTHERCORP"))
    assert "another corp" in refused(WECOM.open, query, body)


def test_wrong_aes_key_is_refused() -> None:
    other_key = "B" * 43
    query, body = wecom_post(wecom_text("zhangsan", "hi"), crypto=wecom_crypto(aes=other_key))
    assert refused(WECOM.open, query, body)


def test_oa_plaintext_mode_is_refused() -> None:
    query, body = oa_post(oa_text("o1", "hi"))
    assert "plaintext" in refused(OA.open, query | {"encrypt_type": "raw"}, body)
    assert refused(OA.open, query | {"signature": "f" * 40}, body) == "bad signature"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "malformed XML: ExpatError"),
        (b"not xml at all", "malformed XML: ExpatError"),
        (b"<xml><Encrypt></Encrypt></xml>", "no Encrypt element"),
        (b"<root><Encrypt>abc</Encrypt></root>", "XML without an <xml> root"),
        (b"<xml><Encrypt>abc</Encrypt>", "malformed XML: ExpatError"),
        (b"\xff\xfe<xml/>", "body is not UTF-8"),
    ],
)
def test_malformed_bodies_are_refused(body: bytes, reason: str) -> None:
    query, _ = wecom_post(wecom_text("zhangsan", "hi"))
    assert refused(WECOM.open, query, body) == reason


def _signed_body(encrypted: str, before: str = "") -> tuple[dict[str, str], bytes]:
    """A WeCom POST whose query signs `encrypted`, the body's Encrypt, behind `before`."""
    ts, nonce = str(int(time.time())), "n-signed"
    query = {
        "msg_signature": callback.signature(WECOM_TOKEN, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    }
    return query, f"{before}<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()


@pytest.mark.parametrize(
    "dtd",
    ["<!DOCTYPE xml>", '<!DOCTYPE xml [<!ENTITY a "aaaa">]>', "<!doctype xml>"],
)
def test_dtd_in_a_genuine_callback_is_refused_before_parsing(
    dtd: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Signed and encrypted correctly, so only the DTD guard stands in the way:
    the XML parser never sees a DTD, neither in the body nor in the decrypted message."""
    query, body = wecom_post(wecom_text("zhangsan", "hi"))
    encrypted = callback.parse_xml(body.decode())["Encrypt"]
    query, body = _signed_body(encrypted, before=dtd)
    assert WECOM.open(*_signed_body(encrypted))["Content"] == "hi"  # genuine without the DTD
    parsed: list[str] = []
    real_parse = callback.xmltodict.parse
    monkeypatch.setattr(
        callback.xmltodict,
        "parse",
        lambda text, **kw: parsed.append(text) or real_parse(text, **kw),
    )
    assert refused(WECOM.open, query, body) == "XML with a DTD"
    assert parsed == []
    # the same inside the encrypted message: the outer body is parsed, the inner is not
    query, body = wecom_post(dtd + wecom_text("zhangsan", "hi"))
    assert refused(WECOM.open, query, body) == "XML with a DTD"
    assert len(parsed) == 1 and dtd not in parsed[0]


def test_oversized_genuine_callback_is_refused_for_its_size() -> None:
    """A correctly signed and encrypted message just over 64 KB (far below any
    server-wide limit): only the callback's own size limit refuses it."""
    filler = "车" * ((callback.MAX_BODY_BYTES - 1000) // 3 * 3 // 4)  # base64 grows 4/3
    fits_query, fits_body = wecom_post(wecom_text("zhangsan", filler))
    assert len(fits_body) <= callback.MAX_BODY_BYTES
    assert WECOM.open(fits_query, fits_body)["Content"] == filler
    query, body = wecom_post(wecom_text("zhangsan", filler + "车" * 1000))
    assert callback.MAX_BODY_BYTES < len(body) < 2 * callback.MAX_BODY_BYTES
    assert refused(WECOM.open, query, body) == f"body of {len(body)} bytes"


def test_garbage_that_is_correctly_signed_is_refused() -> None:
    """A signed but undecryptable Encrypt (e.g. a leaked token, no AES key)."""
    for encrypted, reason in [
        ("!!notbase64!!", "Encrypt is not base64"),
        ("QUJD", "Encrypt has a bad length"),
        ("A" * 64, "bad padding"),
    ]:
        assert refused(WECOM.open, *_signed_body(encrypted)) == reason


@pytest.mark.parametrize("missing", ["msg_signature", "timestamp", "nonce"])
def test_missing_query_parameters_are_refused(missing: str) -> None:
    query, body = wecom_post(wecom_text("zhangsan", "hi"))
    del query[missing]
    assert missing in refused(WECOM.open, query, body)


def test_malformed_timestamp_is_refused() -> None:
    query, body = wecom_post(wecom_text("zhangsan", "hi"))
    query["timestamp"] = "12ab"
    encrypted = callback.parse_xml(body.decode())["Encrypt"]
    query["msg_signature"] = callback.signature(WECOM_TOKEN, "12ab", query["nonce"], encrypted)
    assert refused(WECOM.open, query, body) == "malformed timestamp"


def test_replay_guard_has_one_effect_per_message() -> None:
    guard = ReplayGuard()
    query, body = wecom_post(wecom_text("zhangsan", "hi", msg_id=77))
    fields = WECOM.open(query, body)
    assert guard.first("wecom", fields)
    assert not guard.first("wecom", WECOM.open(query, body))  # the same request again
    # WeChat's retry: a new nonce and signature, the same MsgId
    again = WECOM.open(*wecom_post(wecom_text("zhangsan", "hi", msg_id=77)))
    assert not guard.first("wecom", again)
    assert guard.first("oa", fields)  # another app's ids are its own
    assert guard.first("wecom", WECOM.open(*wecom_post(wecom_text("zhangsan", "hi", msg_id=78))))


def test_events_without_msg_id_are_keyed_by_content() -> None:
    guard = ReplayGuard()
    event = {"MsgType": "event", "Event": "change_external_chat", "ChatId": "c1", "CreateTime": "1"}
    assert guard.first("wecom", event)
    assert not guard.first("wecom", dict(event))
    assert guard.first("wecom", event | {"CreateTime": "2"})


def test_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared = []
    real = callback.hmac.compare_digest
    monkeypatch.setattr(
        callback.hmac, "compare_digest", lambda a, b: compared.append(1) or real(a, b)
    )
    WECOM.open(*wecom_post(wecom_text("zhangsan", "hi")))
    assert compared
