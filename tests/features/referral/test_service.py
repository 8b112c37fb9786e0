"""The referral use cases (features/referral) without chat: config, codes,
anti-fraud under concurrency, rewards following the desk, the reconcile job, voiding.

The desk fixture's clock stands at Friday 2026-11-27 10:00 Shanghai (working hours);
王顾问 (10001) is the only consultant on duty, so every new lead is his.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desk import Actor, ConfigError, Desk, FrozenClock
from desk.models import OutboxMessage
from features import points
from features.referral.attribution import attribute_code, invited, parse_refer_args, refer
from features.referral.codes import code_pattern, find_code, new_code, own_code
from features.referral.config import load_config
from features.referral.errors import (
    InvalidReferral,
    ReferralRefused,
    RewardAlreadyFulfilled,
    RewardNotFound,
)
from features.referral.ledger import fulfil
from features.referral.models import SOURCE_JOIN, ReferralReward
from features.referral.people import Referrals
from features.referral.rewards import Attached, joined, left_group
from tests.features.conftest import CONSULTANT_QQ
from tests.features.referral.conftest import referrals

pytestmark = pytest.mark.usefixtures("attached")

OWNER = "20001"
OTHER_OWNER = "20002"
FRIEND = "30001"
PHONE = "13812345678"
GROUP = "123456"


async def wang(desk: Desk) -> Actor:
    member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert member is not None
    return member.actor()


async def rewards(desk: Desk) -> list[Any]:
    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(ReferralReward).order_by(ReferralReward.id)))

    return await desk.read(step)


async def balance(desk: Desk, qq: str) -> int:
    return await desk.read(lambda uow: points.balance(uow, f"qq:{qq}"))


async def owner_dms(desk: Desk, qq: str) -> list[str]:
    async def step(uow: Any) -> list[str]:
        rows = await uow.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "referral_reward", OutboxMessage.address == qq)
            .order_by(OutboxMessage.id)
        )
        return [f"{m.status}:{m.payload['text']}" for m in rows]

    return await desk.read(step)


async def ask(r: Referrals, args: str = f"张先生 {PHONE} 轩逸", *, referrer: str = OWNER,
              group_id: str | None = None, key: str | None = None) -> str:  # fmt: skip
    """ "referred", or why not (the refusal's reason)."""
    try:
        await refer(
            r, parse_refer_args(args), referrer=f"qq:{referrer}", referrer_name="老张",
            group_id=group_id, event_key=key or f"test:{referrer}:{args}",
        )  # fmt: skip
    except ReferralRefused as refused:
        return refused.reason
    return "referred"


async def referred_lead(desk: Desk, r: Referrals) -> int:
    assert await ask(r) == "referred"
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.channel == "referral"
    return lead.id


# -- configuration ------------------------------------------------------------------------------


def test_default_config_is_the_shipped_file() -> None:
    config = load_config()
    assert (config.visit_points, config.stay_days, config.code_prefix) == (200, 30, "TJ")
    assert config.deal_reward == "保养套餐一次（价值1000元）"


def test_config_dir_overrides_and_bad_values_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    assert load_config().visit_points == 200  # no file there: the shipped defaults
    (tmp_path / "referral.toml").write_text('visit_points = 50\ncode_prefix = "YX"\n', "utf-8")
    assert (load_config().visit_points, load_config().code_prefix) == (50, "YX")
    for bad, key in [
        ("visit_points = -1", "visit_points"),
        ('code_prefix = "tj1"', "code_prefix"),
        ("stay_days = 9999", "stay_days"),
        ('deal_reward = ""', "deal_reward"),
        ("surprise = 1", "surprise"),
        ("visit_points = ", "cannot read"),
    ]:
        (tmp_path / "referral.toml").write_text(bad, "utf-8")
        with pytest.raises(ConfigError, match=key):
            load_config()


# -- codes ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("TJ7K3MQ", "TJ7K3MQ"),
        ("我的推荐码是tj7k3mq，报这个就行", "TJ7K3MQ"),
        ("推荐码ＴＪ７Ｋ３ＭＱ", "TJ7K3MQ"),  # full-width, as some keyboards type it
        ("老张介绍的 TJ7K3MQ 谢谢", "TJ7K3MQ"),
        ("TJHAPPY", None),  # no digit: a word, not a code
        ("XTJ7K3MQ", None),  # glued to other letters
        ("TJ7K3MQ9", None),
        ("TJ7K0MQ", None),  # 0 is not in the alphabet
        ("", None),
        ("x" * 5000, None),
        ("[CQ:at,qq=all] TJ 7K3MQ", None),
    ],
)
def test_find_code(text: str, found: str | None) -> None:
    config = load_config()
    assert find_code(text, code_pattern(config), config.code_prefix) == found


def test_new_codes_are_short_unambiguous_and_findable() -> None:
    config = load_config()
    codes = {new_code(config) for _ in range(300)}
    assert len(codes) > 290
    for code in codes:
        assert len(code) == 7 and code.startswith("TJ")
        assert not set(code[2:]) & set("01OIL")
        assert find_code(f"好友推荐码{code}", code_pattern(config), "TJ") == code


async def test_one_code_per_owner_even_when_asked_concurrently(desk: Desk, r: Referrals) -> None:
    first, second = await asyncio.gather(
        own_code(r, f"qq:{OWNER}", "老张"), own_code(r, f"qq:{OWNER}", "老张")
    )
    assert first == second
    other = await own_code(r, f"qq:{OTHER_OWNER}", None)
    assert other != first


# -- 推荐: parsing and anti-fraud -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (f"张先生 {PHONE} 轩逸", ("张先生", PHONE, "轩逸")),
        (f"张先生 {PHONE}", ("张先生", PHONE, None)),
        ("张先生 138 1234 5678 天籁 2.0", ("张先生", PHONE, "天籁 2.0")),
        (f"张先生 +86-{PHONE}", ("张先生", PHONE, None)),
        (f"{PHONE} 张先生", ("张先生", PHONE, None)),  # swapped
    ],
)
def test_parse_refer_args(args: str, expected: tuple) -> None:
    parsed = parse_refer_args(args)
    assert (parsed.name, parsed.phone, parsed.car_model) == expected


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ("", "usage"),
        ("张先生", "usage"),
        ("张先生 123", "phone"),
        ("张先生 02088886666", "phone"),  # a landline
        ("张先生 abcdefghijk", "phone"),
        ("张" * 30 + f" {PHONE}", "name"),
        (f"张先生 {PHONE} " + "车" * 40, "car_model"),
        (f"张\x00 {PHONE}", "name"),
        (f"张先生 {PHONE} 13912345678", "phone_in_name"),
    ],
)
def test_parse_refer_args_refuses(args: str, field: str) -> None:
    with pytest.raises(InvalidReferral) as refused:
        parse_refer_args(args)
    assert refused.value.field == field


async def test_two_concurrent_referrals_of_one_phone_give_one(desk: Desk, r: Referrals) -> None:
    replies = await asyncio.gather(
        ask(r, f"张先生 {PHONE}", referrer=OWNER),
        ask(r, f"小张 {PHONE}", referrer=OTHER_OWNER),
    )
    assert sorted(replies) == ["known", "referred"]
    [row] = await referrals(desk)
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and row.lead_id == lead.id and lead.referrer == row.referrer


async def test_the_same_event_twice_is_one_referral_and_no_second_reply(
    desk: Desk, r: Referrals
) -> None:
    assert await ask(r, key="qq:1:msg:7") == "referred"
    assert await ask(r, key="qq:1:msg:7") == "duplicate"
    assert len(await referrals(desk)) == 1


async def test_a_refused_referral_changes_nothing(desk: Desk, r: Referrals) -> None:
    # An existing lead without referrer: the referral is refused and the desk does not
    # fill the referrer in (the capture is rolled back with the refusal).
    await desk.capture(channel="walk_in", phone=PHONE, name="张三")
    assert await ask(r) == "known"
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer is None
    assert await referrals(desk) == []


# -- rewards follow the desk ------------------------------------------------------------------------


async def test_visit_gives_points_once_and_the_deal_a_reward(
    desk: Desk, r: Referrals, desk_clock: FrozenClock
) -> None:
    lead_id = await referred_lead(desk, r)
    actor = await wang(desk)
    await desk.follow_up(actor, lead_id, "约了周六来看车", level="H")
    assert await balance(desk, OWNER) == 0  # following earns nothing yet
    await desk.invite(actor, lead_id, desk_clock.now() + timedelta(days=1))
    desk_clock.advance(timedelta(days=1))
    await desk.record_visit(actor, lead_id, "看了顶配")
    assert await balance(desk, OWNER) == 200
    await desk.invite(actor, lead_id, desk_clock.now() + timedelta(days=1))
    desk_clock.advance(timedelta(days=1))
    await desk.record_visit(actor, lead_id, "再次进店")  # a second visit: no second award
    await desk.run_schedules()  # nor from the reconcile job
    assert await balance(desk, OWNER) == 200
    await desk.record_order(actor, lead_id, "交定金")
    assert await rewards(desk) == []
    await desk.record_deal(actor, lead_id, "已提车")
    [reward] = await rewards(desk)
    assert (reward.lead_id, reward.referrer, reward.status) == (lead_id, f"qq:{OWNER}", "pending")
    assert reward.reward == "保养套餐一次（价值1000元）"
    await desk.run_schedules()
    assert len(await rewards(desk)) == 1 and await balance(desk, OWNER) == 200
    dms = await owner_dms(desk, OWNER)
    assert len(dms) == 2
    assert dms[0] == f"pending:visited: 张先生 {PHONE} +200"
    assert dms[1] == "pending:won: 张先生 保养套餐一次（价值1000元）"


async def test_skipping_the_visit_still_gives_the_points(desk: Desk, r: Referrals) -> None:
    lead_id = await referred_lead(desk, r)
    actor = await wang(desk)
    await desk.follow_up(actor, lead_id, "电话里谈好了", level="H")
    await desk.record_order(actor, lead_id, "线上下订")
    assert await balance(desk, OWNER) == 200


async def test_reconcile_applies_what_the_handler_missed(
    desk: Desk, r: Referrals, desk_clock: FrozenClock, attached: Attached
) -> None:
    lead_id = await referred_lead(desk, r)
    # As if the process died between the commit and the event: the handler never runs.
    desk.events.unsubscribe(attached.stage_handler)
    actor = await wang(desk)
    await desk.record_visit(actor, lead_id, "直接到店")
    assert await balance(desk, OWNER) == 0
    assert await desk.run_schedules() >= 1
    assert await balance(desk, OWNER) == 200
    await desk.run_schedules()
    assert await balance(desk, OWNER) == 200
    await desk.record_deal(actor, lead_id, "当场成交")
    assert await rewards(desk) == []
    await desk.run_schedules()
    await desk.run_schedules()
    assert len(await rewards(desk)) == 1
    assert len(await owner_dms(desk, OWNER)) == 2


async def test_a_referral_not_made_here_earns_nothing(desk: Desk, r: Referrals) -> None:
    # A lead the desk knows with a referrer, but no referral row (e.g. typed in by staff).
    lead = await desk.capture(channel="referral", phone=PHONE, referrer=f"qq:{OWNER}")
    await desk.record_visit(await wang(desk), lead.lead.id, "到店")
    await desk.run_schedules()
    assert await balance(desk, OWNER) == 0


# -- invites and the stay window ------------------------------------------------------------------


async def invite(r: Referrals, friend: str = FRIEND, at: str = "1") -> bool:
    return await invited(
        r,
        group_id=GROUP,
        friend=f"qq:{friend}",
        inviter=f"qq:{OWNER}",
        event_key=f"inc:{friend}:{at}",
    )


async def test_an_invited_friend_who_leaves_early_voids_the_referral(
    desk: Desk, r: Referrals, desk_clock: FrozenClock
) -> None:
    assert await invite(r)
    assert not await invite(r)  # the same notice again
    lead = await desk.find_lead(qq_id=FRIEND)
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.group_id == GROUP
    desk_clock.advance(timedelta(days=29))
    assert await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")
    assert not await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")  # once
    [row] = await referrals(desk)
    assert row.voided_at is not None and row.void_reason == "left_group"
    actor = await wang(desk)
    await desk.record_visit(actor, lead.id, "还是来看车了")
    await desk.record_deal(actor, lead.id, "成交")
    await desk.run_schedules()
    assert await balance(desk, OWNER) == 0
    assert await rewards(desk) == []
    assert await owner_dms(desk, OWNER) == []


async def test_leaving_after_the_window_keeps_the_referral(
    desk: Desk, r: Referrals, desk_clock: FrozenClock
) -> None:
    assert await invite(r)
    desk_clock.advance(timedelta(days=31))
    assert not await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")
    [row] = await referrals(desk)
    assert row.voided_at is None


async def test_voiding_takes_back_points_and_cancels_pending_rewards(
    desk: Desk, r: Referrals
) -> None:
    assert await invite(r)
    lead = await desk.find_lead(qq_id=FRIEND)
    assert lead is not None
    actor = await wang(desk)
    await desk.record_visit(actor, lead.id, "到店")
    await desk.record_deal(actor, lead.id, "成交")
    assert await balance(desk, OWNER) == 200
    assert await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")
    assert await balance(desk, OWNER) == 0
    [reward] = await rewards(desk)
    assert reward.status == "cancelled"
    # the DMs not sent yet are withdrawn
    assert all(not dm.startswith("pending") for dm in await owner_dms(desk, OWNER))


async def test_join_request_code_starts_the_window_when_let_in(
    desk: Desk, r: Referrals, desk_clock: FrozenClock
) -> None:
    code = (await own_code(r, f"qq:{OWNER}", "老张")).code
    outcome = await attribute_code(
        r, code, friend=f"qq:{FRIEND}", friend_name=None, group_id=GROUP, event_key="req:1",
        source=SOURCE_JOIN,
    )  # fmt: skip
    assert outcome.attributed
    assert await joined(r, group_id=GROUP, friend=f"qq:{FRIEND}")
    desk_clock.advance(timedelta(days=3))
    assert await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")


async def test_a_code_quoted_in_a_group_has_no_stay_window(desk: Desk, r: Referrals) -> None:
    code = (await own_code(r, f"qq:{OWNER}", "老张")).code
    outcome = await attribute_code(
        r, code, friend=f"qq:{FRIEND}", friend_name="小王", group_id=GROUP, event_key="msg:1"
    )
    assert outcome.attributed and outcome.referrer_name == "老张"
    assert not await left_group(r, group_id=GROUP, friend=f"qq:{FRIEND}")


# -- the ledger --------------------------------------------------------------------------------------


async def test_fulfil_is_durable_and_once(desk: Desk, r: Referrals) -> None:
    lead_id = await referred_lead(desk, r)
    actor = await wang(desk)
    await desk.record_visit(actor, lead_id, "到店")
    await desk.record_deal(actor, lead_id, "成交")
    [reward] = await rewards(desk)
    assert (await fulfil(r, reward.id, "周经理")).status == "fulfilled"
    [done] = await rewards(desk)
    assert (done.status, done.fulfilled_by) == ("fulfilled", "周经理")
    assert done.fulfilled_at is not None
    with pytest.raises(RewardAlreadyFulfilled) as already:
        await fulfil(r, reward.id, "别人")
    assert (already.value.by, already.value.at) == ("周经理", done.fulfilled_at)
    with pytest.raises(RewardNotFound):
        await fulfil(r, reward.id + 100, "周经理")
    assert (await owner_dms(desk, OWNER))[
        -1
    ] == "pending:fulfilled: 张先生 保养套餐一次（价值1000元）"
    [same] = await rewards(desk)
    assert (same.status, same.fulfilled_by) == ("fulfilled", "周经理")
