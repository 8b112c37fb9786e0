"""The referral rules (bot/plugins/referral/service.py) without chat: config, codes,
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

from desk import Actor, Desk, FrozenClock
from desk.models import OutboxMessage
from tests.support.nonebot_env import CONSULTANT_QQ

OWNER = "20001"
OTHER_OWNER = "20002"
FRIEND = "30001"
PHONE = "13812345678"
GROUP = "123456"


@pytest.fixture
def svc(desk: Desk) -> Any:
    from bot.plugins.referral.service import service_for

    return service_for(desk)


async def wang(desk: Desk) -> Actor:
    member = await desk.member_by(qq_id=str(CONSULTANT_QQ))
    assert member is not None
    return member.actor()


async def referrals(desk: Desk) -> list[Any]:
    from bot.plugins.referral.models import Referral

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(Referral).order_by(Referral.id)))

    return await desk.read(step)


async def rewards(desk: Desk) -> list[Any]:
    from bot.plugins.referral.models import ReferralReward

    async def step(uow: Any) -> list[Any]:
        return list(await uow.session.scalars(select(ReferralReward).order_by(ReferralReward.id)))

    return await desk.read(step)


async def balance(desk: Desk, qq: str) -> int:
    from features import points

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


async def refer(svc: Any, args: str = f"张先生 {PHONE} 轩逸", *, referrer: str = OWNER,
                group_id: str | None = None, key: str | None = None) -> str | None:  # fmt: skip
    return await svc.refer(
        referrer=f"qq:{referrer}", referrer_name="老张", args=args, group_id=group_id,
        event_key=key or f"test:{referrer}:{args}",
    )  # fmt: skip


async def referred_lead(desk: Desk, svc: Any) -> int:
    assert (await refer(svc) or "").startswith("感谢推荐")
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.channel == "referral"
    return lead.id


# -- configuration ------------------------------------------------------------------------------


def test_default_config_is_the_shipped_file() -> None:
    from bot.plugins.referral.service import load_config

    config = load_config()
    assert (config.visit_points, config.stay_days, config.code_prefix) == (200, 30, "TJ")
    assert config.deal_reward == "保养套餐一次（价值1000元）"


def test_config_dir_overrides_and_bad_values_name_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.plugins.referral.service import ReferralConfigError, load_config

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
        with pytest.raises(ReferralConfigError, match=key):
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
    from bot.plugins.referral.service import code_pattern, find_code, load_config

    config = load_config()
    assert find_code(text, code_pattern(config), config.code_prefix) == found


def test_new_codes_are_short_unambiguous_and_findable() -> None:
    from bot.plugins.referral.service import code_pattern, find_code, load_config, new_code

    config = load_config()
    codes = {new_code(config) for _ in range(300)}
    assert len(codes) > 290
    for code in codes:
        assert len(code) == 7 and code.startswith("TJ")
        assert not set(code[2:]) & set("01OIL")
        assert find_code(f"好友推荐码{code}", code_pattern(config), "TJ") == code


async def test_one_code_per_owner_even_when_asked_concurrently(desk: Desk, svc: Any) -> None:
    first, second = await asyncio.gather(
        svc.my_code(f"qq:{OWNER}", "老张"), svc.my_code(f"qq:{OWNER}", "老张")
    )
    assert first == second
    other = await svc.my_code(f"qq:{OTHER_OWNER}", None)
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
    from bot.plugins.referral.service import parse_refer_args

    parsed = parse_refer_args(args)
    assert not isinstance(parsed, str)
    assert (parsed.name, parsed.phone, parsed.car_model) == expected


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        ("", ""),
        ("张先生", ""),
        ("张先生 123", "BAD_PHONE"),
        ("张先生 02088886666", "BAD_PHONE"),  # a landline
        ("张先生 abcdefghijk", "BAD_PHONE"),
        ("张" * 30 + f" {PHONE}", "BAD_NAME"),
        (f"张先生 {PHONE} " + "车" * 40, "BAD_MODEL"),
        (f"张\x00 {PHONE}", "BAD_NAME"),
    ],
)
def test_parse_refer_args_refuses(args: str, reply: str) -> None:
    from bot.plugins.referral import texts
    from bot.plugins.referral.service import parse_refer_args

    assert parse_refer_args(args) == (getattr(texts, reply) if reply else "")


async def test_two_concurrent_referrals_of_one_phone_give_one(desk: Desk, svc: Any) -> None:
    from bot.plugins.referral import texts

    replies = await asyncio.gather(
        refer(svc, f"张先生 {PHONE}", referrer=OWNER),
        refer(svc, f"小张 {PHONE}", referrer=OTHER_OWNER),
    )
    assert sorted(r is not None and r.startswith("感谢推荐！已登记") for r in replies) == [
        False, True,
    ]  # fmt: skip
    assert texts.ALREADY_KNOWN in replies
    [row] = await referrals(desk)
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and row.lead_id == lead.id and lead.referrer == row.referrer


async def test_the_same_event_twice_is_one_referral_and_no_second_reply(
    desk: Desk, svc: Any
) -> None:
    assert (await refer(svc, key="qq:1:msg:7") or "").startswith("感谢推荐")
    assert await refer(svc, key="qq:1:msg:7") is None
    assert len(await referrals(desk)) == 1


async def test_a_refused_referral_changes_nothing(desk: Desk, svc: Any) -> None:
    # An existing lead without referrer: the referral is refused and the desk does not
    # fill the referrer in (the capture is rolled back with the refusal).
    await desk.capture(channel="walk_in", phone=PHONE, name="张三")
    from bot.plugins.referral import texts

    assert await refer(svc) == texts.ALREADY_KNOWN
    lead = await desk.find_lead(phone=PHONE)
    assert lead is not None and lead.referrer is None
    assert await referrals(desk) == []


# -- rewards follow the desk ------------------------------------------------------------------------


async def test_visit_gives_points_once_and_the_deal_a_reward(
    desk: Desk, svc: Any, desk_clock: FrozenClock
) -> None:
    lead_id = await referred_lead(desk, svc)
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
    assert "已到店" in dms[0] and "200 积分" in dms[0] and "138****5678" in dms[0]
    assert "已成交" in dms[1] and "保养套餐一次" in dms[1]


async def test_skipping_the_visit_still_gives_the_points(desk: Desk, svc: Any) -> None:
    lead_id = await referred_lead(desk, svc)
    actor = await wang(desk)
    await desk.follow_up(actor, lead_id, "电话里谈好了", level="H")
    await desk.record_order(actor, lead_id, "线上下订")
    assert await balance(desk, OWNER) == 200


async def test_reconcile_applies_what_the_handler_missed(
    desk: Desk, svc: Any, desk_clock: FrozenClock
) -> None:
    lead_id = await referred_lead(desk, svc)
    # As if the process died between the commit and the event: the handler never runs.
    desk.events.unsubscribe(svc.stage_handler)
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


async def test_a_referral_not_made_here_earns_nothing(desk: Desk, svc: Any) -> None:
    # A lead the desk knows with a referrer, but no referral row (e.g. typed in by staff).
    lead = await desk.capture(channel="referral", phone=PHONE, referrer=f"qq:{OWNER}")
    await desk.record_visit(await wang(desk), lead.lead.id, "到店")
    await desk.run_schedules()
    assert await balance(desk, OWNER) == 0


# -- invites and the stay window ------------------------------------------------------------------


async def invite(svc: Any, friend: str = FRIEND, at: str = "1") -> bool:
    return await svc.invited(
        group_id=GROUP, friend=f"qq:{friend}", inviter=f"qq:{OWNER}", event_key=f"inc:{friend}:{at}"
    )


async def test_an_invited_friend_who_leaves_early_voids_the_referral(
    desk: Desk, svc: Any, desk_clock: FrozenClock
) -> None:
    assert await invite(svc)
    assert not await invite(svc)  # the same notice again
    lead = await desk.find_lead(qq_id=FRIEND)
    assert lead is not None and lead.referrer == f"qq:{OWNER}" and lead.group_id == GROUP
    desk_clock.advance(timedelta(days=29))
    assert await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")
    assert not await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")  # once
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
    desk: Desk, svc: Any, desk_clock: FrozenClock
) -> None:
    assert await invite(svc)
    desk_clock.advance(timedelta(days=31))
    assert not await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")
    [row] = await referrals(desk)
    assert row.voided_at is None


async def test_voiding_takes_back_points_and_cancels_pending_rewards(desk: Desk, svc: Any) -> None:
    assert await invite(svc)
    lead = await desk.find_lead(qq_id=FRIEND)
    assert lead is not None
    actor = await wang(desk)
    await desk.record_visit(actor, lead.id, "到店")
    await desk.record_deal(actor, lead.id, "成交")
    assert await balance(desk, OWNER) == 200
    assert await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")
    assert await balance(desk, OWNER) == 0
    [reward] = await rewards(desk)
    assert reward.status == "cancelled"
    # the DMs not sent yet are withdrawn
    assert all(not dm.startswith("pending") for dm in await owner_dms(desk, OWNER))


async def test_join_request_code_starts_the_window_when_let_in(
    desk: Desk, svc: Any, desk_clock: FrozenClock
) -> None:
    from bot.plugins.referral.models import SOURCE_JOIN

    code = (await svc.my_code(f"qq:{OWNER}", "老张")).split("：", 1)[1].split("\n", 1)[0]
    outcome = await svc.attribute_code(
        code, friend=f"qq:{FRIEND}", friend_name=None, group_id=GROUP, event_key="req:1",
        source=SOURCE_JOIN,
    )  # fmt: skip
    assert outcome.attributed
    assert await svc.joined(group_id=GROUP, friend=f"qq:{FRIEND}")
    desk_clock.advance(timedelta(days=3))
    assert await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")


async def test_a_code_quoted_in_a_group_has_no_stay_window(desk: Desk, svc: Any) -> None:
    code = (await svc.my_code(f"qq:{OWNER}", "老张")).split("：", 1)[1].split("\n", 1)[0]
    outcome = await svc.attribute_code(
        code, friend=f"qq:{FRIEND}", friend_name="小王", group_id=GROUP, event_key="msg:1"
    )
    assert outcome.attributed and outcome.referrer_name == "老张"
    assert not await svc.left_group(group_id=GROUP, friend=f"qq:{FRIEND}")


# -- the ledger --------------------------------------------------------------------------------------


async def test_fulfil_is_durable_and_once(desk: Desk, svc: Any) -> None:
    lead_id = await referred_lead(desk, svc)
    actor = await wang(desk)
    await desk.record_visit(actor, lead_id, "到店")
    await desk.record_deal(actor, lead_id, "成交")
    [reward] = await rewards(desk)
    assert "已登记发放" in await svc.fulfil(reward.id, "周经理")
    [done] = await rewards(desk)
    assert (done.status, done.fulfilled_by) == ("fulfilled", "周经理")
    assert done.fulfilled_at is not None
    assert "无需重复登记" in await svc.fulfil(reward.id, "别人")
    assert "没有找到" in await svc.fulfil(reward.id + 100, "周经理")
    assert "已发放" in (await owner_dms(desk, OWNER))[-1]
