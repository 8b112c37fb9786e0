"""The referral rules for WeChat without chat (bot/plugins/referral/service.py):
codes carried in a WeCom `state`, customer-group member lists, people as handles
across platforms, the `[wecom]` config, and attribution under concurrency.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai; 王顾问 (QQ
10001) is the only consultant on duty.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk import Desk, FrozenClock
from tests.support.nonebot_env import CONSULTANT_QQ, DESK_START

START = DESK_START
OWNER = "wechat:o_owner_0000000000000000001"
QQ_OWNER = "qq:20001"
CUSTOMER = "wmCustomer00000000000000001"
CHAT = "wrChat000000000000000000001"


@pytest.fixture
def referral() -> Any:
    """bot.plugins.referral.service (imported once NoneBot has loaded the plugin)."""
    from bot.plugins.referral import service

    return service


@pytest.fixture
def clock(desk_clock: FrozenClock) -> FrozenClock:
    return desk_clock


@pytest.fixture
def svc(referral: Any, desk: Desk) -> Any:
    return referral.service_for(desk)


async def rows(desk: Desk) -> list[Any]:
    from bot.plugins.referral.models import Referral

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(Referral).order_by(Referral.id)))

    return await desk.read(step)


# -- configuration ------------------------------------------------------------------------------


def test_the_shipped_config_makes_no_qr(referral: Any) -> None:
    assert referral.load_config().wecom.contact_users == ()


def test_contact_users_are_validated_naming_the_key(referral: Any, tmp_path: Path) -> None:
    path = tmp_path / "referral.toml"
    path.write_text('[wecom]\ncontact_users = ["zhangsan", "li.si@corp"]\n', encoding="utf-8")
    assert referral.load_config(path).wecom.contact_users == ("zhangsan", "li.si@corp")
    for bad in ('contact_users = ["张三"]', 'contact_users = [""]', "contact_users = 3",
                'contact_user = ["zhangsan"]'):  # fmt: skip
        path.write_text(f"[wecom]\n{bad}\n", encoding="utf-8")
        with pytest.raises(referral.ReferralConfigError, match=r"wecom\.contact_user"):
            referral.load_config(path)


# -- codes in a WeCom state, group member lists ---------------------------------------------------


@pytest.mark.parametrize(
    ("state", "found"),
    [
        ("TJ7K3MQ", "TJ7K3MQ"),
        ("tj7k3mq", "TJ7K3MQ"),
        (" TJ7K3MQ ", "TJ7K3MQ"),
        ("TJHAPPY", None),  # a code always carries a digit
        ("poster-TJ7K3MQ", None),  # another contact way's state, not ours
        ("TJ7K3MQ2", None),
        ("", None),
        (None, None),
        ("T" * 31, None),
        ("'; DROP TABLE referrals; --", None),
    ],
)
def test_a_state_is_a_code_only_when_it_is_one_whole(
    referral: Any, state: str | None, found: str | None
) -> None:
    config = referral.load_config()
    pattern = referral.code_pattern(config)
    assert referral.code_in_state(state, pattern, config.code_prefix) == found


def test_the_new_customers_with_a_code_are_read_from_the_member_list(referral: Any) -> None:
    config = referral.load_config()
    pattern = referral.code_pattern(config)
    group = {
        "member_list": [
            {"userid": "zhangsan", "type": 1, "state": "TJ7K3MQ"},  # staff
            {"userid": "wmA", "type": 2, "join_scene": 3, "state": "TJ7K3MQ"},
            {"userid": "wmB", "type": 2, "join_scene": 3},
            {"userid": "wmC", "type": 2, "join_scene": 3, "state": "TJ2345Z"},
            {"userid": "wmD", "type": 2, "state": "other"},
            {"userid": 7, "type": 2, "state": "TJ7K3MQ"},
            "junk",
        ]
    }
    joined = referral.joined_with_codes(group, ["wmA", "wmB", "wmD"], pattern, "TJ")
    assert joined == [("wmA", "TJ7K3MQ")]
    # an event that names nobody: every customer with a code (each attributed once anyway)
    assert referral.joined_with_codes(group, [], pattern, "TJ") == [
        ("wmA", "TJ7K3MQ"),
        ("wmC", "TJ2345Z"),
    ]
    for junk in (None, {}, {"member_list": None}, {"member_list": "x"}, []):
        assert referral.joined_with_codes(junk, ["wmA"], pattern, "TJ") == []


# -- people as handles ------------------------------------------------------------------------------


def test_handles_map_to_the_desks_contacts(referral: Any) -> None:
    assert referral.contact_fields("qq:20001") == {"qq_id": "20001"}
    assert referral.contact_fields(OWNER) == {"wechat_openid": OWNER.split(":", 1)[1]}
    assert referral.contact_fields(f"wecom:{CUSTOMER}") == {"wecom_external_userid": CUSTOMER}
    for bad in ("phone:138", "wechat:", "nothing", ""):
        assert referral.contact_fields(bad) == {}
    assert referral.account_label("qq:20001") == "QQ 20001"
    assert referral.account_label(OWNER) == f"微信 {OWNER.split(':', 1)[1]}"
    assert referral.referrer_label(None, OWNER) == "微信车主·0001"
    assert referral.referrer_label(None, "qq:20001") == "QQ好友 20****01"
    assert referral.referrer_label("老张", OWNER) == "老张"


# -- attribution ---------------------------------------------------------------------------------------


async def test_a_wecom_customer_is_attributed_once_whoever_comes_first(
    svc: Any, desk: Desk
) -> None:
    """Two owners' QRs scanned by one customer at the same moment: one referral."""
    first = (await svc.own_code(OWNER, None)).code
    second = (await svc.own_code(QQ_OWNER, "老张")).code
    outcomes = await asyncio.gather(
        svc.wecom_contact_added(first, external_userid=CUSTOMER, event_key="e1"),
        svc.wecom_contact_added(second, external_userid=CUSTOMER, event_key="e2"),
        svc.wecom_contact_added(first, external_userid=CUSTOMER, event_key="e1"),
    )
    assert sum(o.attributed for o in outcomes) == 1
    [row] = await rows(desk)
    lead = await desk.find_lead(wecom_external_userid=CUSTOMER)
    assert lead is not None and lead.referrer == row.referrer and lead.id == row.lead_id
    assert lead.channel == "wecom"
    consultant = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert consultant is not None and lead.consultant_id == consultant.id  # told as usual


async def test_a_code_of_nobody_and_bad_ids_record_nothing(svc: Any, desk: Desk) -> None:
    outcome = await svc.wecom_contact_added("TJ2345Z", external_userid=CUSTOMER, event_key="e1")
    assert (outcome.attributed, outcome.reason) == (False, "unknown")
    code = (await svc.own_code(OWNER, None)).code
    for bad in ("a b", "x" * 200, "'; DROP TABLE leads; --"):
        outcome = await svc.wecom_contact_added(code, external_userid=bad, event_key=f"k{bad}")
        assert not outcome.attributed
    assert await rows(desk) == []


async def test_a_group_join_starts_the_stay_window(
    svc: Any, desk: Desk, clock: FrozenClock
) -> None:
    code = (await svc.own_code(OWNER, None)).code
    group = {"member_list": [{"userid": CUSTOMER, "type": 2, "join_scene": 3, "state": code}]}
    [outcome] = await svc.wecom_group_joined(
        group, chat_id=CHAT, member_ids=[CUSTOMER], key_prefix="wecom:chat:1"
    )
    assert outcome.attributed
    clock.advance(timedelta(days=31))  # past config stay_days (30)
    assert await svc.wecom_group_left(chat_id=CHAT, member_ids=[CUSTOMER]) == 0
    [row] = await rows(desk)
    assert row.voided_at is None and row.joined_at == START


async def test_the_first_stored_qr_wins(svc: Any) -> None:
    code = (await svc.own_code(OWNER, None)).code
    assert await svc.save_contact_way(code, "cfg-1", "https://qr/1") == "https://qr/1"
    assert await svc.save_contact_way(code, "cfg-2", "https://qr/2") == "https://qr/1"
    assert (await svc.own_code(OWNER, None)).contact_qr == "https://qr/1"
    assert await svc.save_contact_way("TJ2345Z", "cfg", "https://qr/3") is None
    assert await svc.save_contact_way(code, "", "https://qr/4") is None
    assert await svc.save_contact_way(code, "cfg", "x" * 600) is None


async def test_a_long_platform_key_is_hashed_within_the_desks_limit(referral: Any) -> None:
    short = referral.platform_key("wecom", "chat", CHAT, 1, CUSTOMER)
    assert short == f"wecom:chat:{CHAT}:1:{CUSTOMER}"
    long_a = referral.platform_key("wecom", "chat", "c" * 128, 1, "u" * 64)
    long_b = referral.platform_key("wecom", "chat", "c" * 128, 1, "v" * 64)
    assert len(long_a) <= 160 and long_a != long_b and long_a.startswith("wecom:")
