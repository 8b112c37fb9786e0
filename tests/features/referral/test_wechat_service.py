"""The referral use cases for WeChat without chat (features/referral): codes carried
in a WeCom `state`, customer-group member lists, people as handles across
platforms, the `[wecom]` config, and attribution under concurrency.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai; 王顾问 (QQ
10001) is the only consultant on duty.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from desk import ConfigError, Desk, FrozenClock
from features.referral.attribution import wecom_contact_added, wecom_group_joined
from features.referral.codes import (
    code_in_state,
    code_pattern,
    joined_with_codes,
    own_code,
    save_contact_way,
)
from features.referral.config import load_config
from features.referral.people import Referrals, contact_fields, platform_key
from features.referral.rewards import wecom_group_left
from tests.desk.conftest import START
from tests.features.conftest import CONSULTANT_QQ
from tests.features.referral.conftest import referrals

pytestmark = pytest.mark.usefixtures("attached")

OWNER = "wechat:o_owner_0000000000000000001"
QQ_OWNER = "qq:20001"
CUSTOMER = "wmCustomer00000000000000001"
CHAT = "wrChat000000000000000000001"


@pytest.fixture
def clock(desk_clock: FrozenClock) -> FrozenClock:
    return desk_clock


# -- configuration ------------------------------------------------------------------------------


def test_the_shipped_config_makes_no_qr() -> None:
    assert load_config().wecom.contact_users == ()


def test_contact_users_are_validated_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "referral.toml"
    path.write_text('[wecom]\ncontact_users = ["zhangsan", "li.si@corp"]\n', encoding="utf-8")
    assert load_config(path).wecom.contact_users == ("zhangsan", "li.si@corp")
    for bad in ('contact_users = ["张三"]', 'contact_users = [""]', "contact_users = 3",
                'contact_user = ["zhangsan"]'):  # fmt: skip
        path.write_text(f"[wecom]\n{bad}\n", encoding="utf-8")
        with pytest.raises(ConfigError, match=r"wecom\.contact_user"):
            load_config(path)


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
def test_a_state_is_a_code_only_when_it_is_one_whole(state: str | None, found: str | None) -> None:
    config = load_config()
    pattern = code_pattern(config)
    assert code_in_state(state, pattern, config.code_prefix) == found


def test_the_new_customers_with_a_code_are_read_from_the_member_list() -> None:
    config = load_config()
    pattern = code_pattern(config)
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
    joined = joined_with_codes(group, ["wmA", "wmB", "wmD"], pattern, "TJ")
    assert joined == [("wmA", "TJ7K3MQ")]
    # an event that names nobody: every customer with a code (each attributed once anyway)
    assert joined_with_codes(group, [], pattern, "TJ") == [
        ("wmA", "TJ7K3MQ"),
        ("wmC", "TJ2345Z"),
    ]
    for junk in (None, {}, {"member_list": None}, {"member_list": "x"}, []):
        assert joined_with_codes(junk, ["wmA"], pattern, "TJ") == []


# -- people as handles ------------------------------------------------------------------------------


def test_handles_map_to_the_desks_contacts() -> None:
    assert contact_fields("qq:20001") == {"qq_id": "20001"}
    assert contact_fields(OWNER) == {"wechat_openid": OWNER.split(":", 1)[1]}
    assert contact_fields(f"wecom:{CUSTOMER}") == {"wecom_external_userid": CUSTOMER}
    for bad in ("phone:138", "wechat:", "nothing", ""):
        assert contact_fields(bad) == {}


# -- attribution ---------------------------------------------------------------------------------------


async def test_a_wecom_customer_is_attributed_once_whoever_comes_first(
    r: Referrals, desk: Desk
) -> None:
    """Two owners' QRs scanned by one customer at the same moment: one referral."""
    first = (await own_code(r, OWNER, None)).code
    second = (await own_code(r, QQ_OWNER, "老张")).code
    outcomes = await asyncio.gather(
        wecom_contact_added(r, first, external_userid=CUSTOMER, event_key="e1"),
        wecom_contact_added(r, second, external_userid=CUSTOMER, event_key="e2"),
        wecom_contact_added(r, first, external_userid=CUSTOMER, event_key="e1"),
    )
    assert sum(o.attributed for o in outcomes) == 1
    [row] = await referrals(desk)
    lead = await desk.find_lead(wecom_external_userid=CUSTOMER)
    assert lead is not None and lead.referrer == row.referrer and lead.id == row.lead_id
    assert lead.channel == "wecom"
    consultant = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert consultant is not None and lead.consultant_id == consultant.id  # told as usual


async def test_a_code_of_nobody_and_bad_ids_record_nothing(r: Referrals, desk: Desk) -> None:
    outcome = await wecom_contact_added(r, "TJ2345Z", external_userid=CUSTOMER, event_key="e1")
    assert (outcome.attributed, outcome.reason) == (False, "unknown")
    code = (await own_code(r, OWNER, None)).code
    for bad in ("a b", "x" * 200, "'; DROP TABLE leads; --"):
        outcome = await wecom_contact_added(r, code, external_userid=bad, event_key=f"k{bad}")
        assert not outcome.attributed
    assert await referrals(desk) == []


async def test_a_group_join_starts_the_stay_window(
    r: Referrals, desk: Desk, clock: FrozenClock
) -> None:
    code = (await own_code(r, OWNER, None)).code
    group = {"member_list": [{"userid": CUSTOMER, "type": 2, "join_scene": 3, "state": code}]}
    [outcome] = await wecom_group_joined(
        r, group, chat_id=CHAT, member_ids=[CUSTOMER], key_prefix="wecom:chat:1"
    )
    assert outcome.attributed
    clock.advance(timedelta(days=31))  # past config stay_days (30)
    assert await wecom_group_left(r, chat_id=CHAT, member_ids=[CUSTOMER]) == 0
    [row] = await referrals(desk)
    assert row.voided_at is None and row.joined_at == START


async def test_the_first_stored_qr_wins(r: Referrals) -> None:
    code = (await own_code(r, OWNER, None)).code
    assert await save_contact_way(r, code, "cfg-1", "https://qr/1") == "https://qr/1"
    assert await save_contact_way(r, code, "cfg-2", "https://qr/2") == "https://qr/1"
    assert (await own_code(r, OWNER, None)).contact_qr == "https://qr/1"
    assert await save_contact_way(r, "TJ2345Z", "cfg", "https://qr/3") is None
    assert await save_contact_way(r, code, "", "https://qr/4") is None
    assert await save_contact_way(r, code, "cfg", "x" * 600) is None


async def test_a_long_platform_key_is_hashed_within_the_desks_limit() -> None:
    short = platform_key("wecom", "chat", CHAT, 1, CUSTOMER)
    assert short == f"wecom:chat:{CHAT}:1:{CUSTOMER}"
    long_a = platform_key("wecom", "chat", "c" * 128, 1, "u" * 64)
    long_b = platform_key("wecom", "chat", "c" * 128, 1, "v" * 64)
    assert len(long_a) <= 160 and long_a != long_b and long_a.startswith("wecom:")
