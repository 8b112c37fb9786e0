"""The events service without the bot: parsing, config, seats under concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from desk import Desk

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH)  # a Friday
GROUP = "123456"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def service(desk: Desk) -> Any:
    from bot.plugins.events.service import Events, load_config

    return Events(desk, load_config())


def request(event_id: int, user: int, **kw: Any) -> Any:
    from bot.plugins.events.service import SignupRequest

    return SignupRequest(event_id=event_id, user_id=str(user), group_id=GROUP, **kw)


async def new_event(desk: Desk, args: str) -> int:
    event_id, _ = await service(desk).create(group_id=GROUP, created_by="90001", args=args)
    return event_id


# -- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "title", "start", "place", "capacity", "cars", "deadline"),
    [
        ("自驾游 周六上午10点 4S店 20", "自驾游", at(11, 28, 10), "4S店", 20, None, at(11, 28, 10)),
        ("自驾游 明天下午3点 4S店 门口 20人 8车", "自驾游", at(11, 28, 15), "4S店 门口", 20, 8, at(11, 28, 15)),
        ("试驾会 12月1号 14:00 展厅 10 截止 11月30号 18:00", "试驾会", at(12, 1, 14), "展厅", 10, None, at(11, 30, 18)),
        ("试驾会 周六 上午10点 3号门 10 截止周五18点", "试驾会", at(11, 28, 10), "3号门", 10, None, at(11, 27, 18)),
        ("车友会 下周六 9:00 万达 30位", "车友会", at(12, 5, 9), "万达", 30, None, at(12, 5, 9)),
    ],
)  # fmt: skip
def test_parse_new_event(
    args: str, title: str, start: datetime, place: str, capacity: int, cars: int | None,
    deadline: datetime,
) -> None:  # fmt: skip
    from bot.plugins.events.service import EventsConfig, parse_new_event

    new = parse_new_event(args, NOW, SH, EventsConfig())
    assert (new.title, new.starts_at, new.place, new.capacity, new.car_capacity, new.deadline_at) == (
        title, start, place, capacity, cars, deadline,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "party", "cars", "note"),
    [
        ("3", None, None, None),
        ("#3 2人", 2, None, None),
        ("3 2", 2, None, None),
        ("3 2人 1车 带孩子 坐后排", 2, 1, "带孩子 坐后排"),
        ("3 1车 2人", 2, 1, None),
        ("3 2020年的车", None, None, "2020年的车"),
    ],
)
def test_parse_signup_args(
    args: str, party: int | None, cars: int | None, note: str | None
) -> None:
    from bot.plugins.events.service import EventsConfig, parse_signup_args

    parsed = parse_signup_args(args, EventsConfig())
    assert (parsed.event_id, parsed.party, parsed.cars, parsed.note) == (3, party, cars, note)


def test_config_from_desk_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.plugins.events.service import EventsConfigError, load_config

    assert load_config().reminder_hour == 18
    (tmp_path / "events.toml").write_text("reminder_hour = 20\nmax_party = 4\n", encoding="utf-8")
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    config = load_config()
    assert (config.reminder_hour, config.max_party, config.no_show_grace_hours) == (20, 4, 3)
    (tmp_path / "events.toml").write_text("reminder_hour = 25\n", encoding="utf-8")
    with pytest.raises(EventsConfigError, match="reminder_hour"):
        load_config()
    (tmp_path / "events.toml").write_text("reminder_hours = 8\n", encoding="utf-8")
    with pytest.raises(EventsConfigError, match="reminder_hours"):
        load_config()
    (tmp_path / "events.toml").write_text("reminder_hour = \n", encoding="utf-8")
    with pytest.raises(EventsConfigError, match="cannot read"):
        load_config()


def test_export_keeps_formulas_and_control_characters_out() -> None:
    from bot.plugins.events.export import build_signup_sheet

    data = build_signup_sheet(
        "名单", "=cmd|' /C calc'!A0", ("昵称", "备注"),
        [("+SUM(A1)", "-1"), ("@x", "ok\x07"), ("普通", 3)],
    )  # fmt: skip
    rows = list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows == [
        ("'=cmd|' /C calc'!A0", None),
        ("昵称", "备注"),
        ("'+SUM(A1)", "'-1"),
        ("'@x", "ok"),
        ("普通", 3),
    ]


# -- seats --------------------------------------------------------------------------------


async def test_fifty_concurrent_sign_ups_for_ten_seats(desk: Desk) -> None:
    event_id = await new_event(desk, "自驾游 周六上午10点 门口 10")
    svc = service(desk)
    outcomes = await asyncio.gather(
        *(svc.sign_up(request(event_id, 30000 + i, nickname=f"车主{i}")) for i in range(50))
    )
    assert Counter(o.status for o in outcomes) == {"signed": 10, "waitlisted": 40}
    positions = sorted(o.position for o in outcomes if o.status == "waitlisted")
    assert positions == list(range(1, 41))
    stats = await svc.stats(event_id, GROUP)
    assert "报名：10人（10组）/ 名额 10\n候补：40人（40组）" in stats
    assert stats.endswith("新线索：50")


async def test_fifty_concurrent_sign_ups_for_the_last_seat(desk: Desk) -> None:
    event_id = await new_event(desk, "试驾会 周六上午10点 展厅 3")
    svc = service(desk)
    await svc.sign_up(request(event_id, 20001, party=2, is_staff=True))
    outcomes = await asyncio.gather(
        *(svc.sign_up(request(event_id, 30000 + i, is_staff=True)) for i in range(50))
    )
    assert Counter(o.status for o in outcomes) == {"signed": 1, "waitlisted": 49}
    assert "报名：3人（2组）/ 名额 3" in await svc.stats(event_id, GROUP)


async def test_concurrent_cancels_and_sign_ups_fill_exactly(desk: Desk) -> None:
    event_id = await new_event(desk, "试驾会 周六上午10点 展厅 10")
    svc = service(desk)
    for i in range(30):
        await svc.sign_up(request(event_id, 30000 + i, is_staff=True))
    await asyncio.gather(
        *(svc.cancel_signup(event_id, str(30000 + i), GROUP) for i in range(0, 10, 2)),
        *(svc.sign_up(request(event_id, 40000 + i, is_staff=True)) for i in range(20)),
    )
    stats = await svc.stats(event_id, GROUP)
    assert "报名：10人（10组）" in stats and "候补：35人（35组）\n取消：5组" in stats
    promoted = [
        p for p in await desk.claim_notifications(["qq_group"], 100) if ":promoted:" in p.key
    ]
    assert [p.payload["at"] for p in promoted] == [[str(30000 + i)] for i in range(10, 15)]


async def test_cars_are_capped_for_a_self_drive_trip(desk: Desk) -> None:
    event_id = await new_event(desk, "自驾游 周六上午10点 门口 10人 2车")
    svc = service(desk)
    got = [
        (await svc.sign_up(request(event_id, user, party=party, cars=cars, is_staff=True))).status
        for user, party, cars in [(1_0001, 2, 1), (1_0002, 2, 1), (1_0003, 2, 1), (1_0004, 3, None)]
    ]
    assert got == ["signed", "signed", "waitlisted", "signed"]
    # one car frees: the waitlisted car party goes
    await svc.cancel_signup(event_id, "10001", GROUP)
    assert "报名：7人（3组）/ 名额 10，车辆 2/2" in await svc.stats(event_id, GROUP)


async def test_a_waitlisted_party_that_shrinks_may_get_in(desk: Desk) -> None:
    event_id = await new_event(desk, "试驾会 周六上午10点 展厅 4")
    svc = service(desk)
    await svc.sign_up(request(event_id, 20001, party=2, is_staff=True))
    await svc.sign_up(request(event_id, 20002, party=2, is_staff=True))
    waiting = await svc.sign_up(request(event_id, 20003, party=3, is_staff=True))
    assert (waiting.status, waiting.position) == ("waitlisted", 1)
    bigger = await svc.sign_up(request(event_id, 20001, party=3, is_staff=True))
    assert bigger.kind == "kept" and bigger.text == "活动 #1 名额不够改为 3人，仍保留原报名 2人。"
    smaller = await svc.sign_up(request(event_id, 20001, party=1, is_staff=True))
    assert (smaller.kind, smaller.promoted) == ("updated", ())  # 3 do not fit in the seat freed
    shrunk = await svc.sign_up(request(event_id, 20003, party=1, is_staff=True))
    assert (shrunk.kind, shrunk.status) == ("signed", "signed")
    # the asker is answered directly, not @-ed in the group as well
    assert await desk.claim_notifications(["qq_group"]) == []
    assert "报名：4人（3组）/ 名额 4" in await svc.stats(event_id, GROUP)


async def test_sign_up_again_after_cancelling_goes_to_the_back(desk: Desk) -> None:
    event_id = await new_event(desk, "试驾会 周六上午10点 展厅 1")
    svc = service(desk)
    for user in (20001, 20002, 20003):
        await svc.sign_up(request(event_id, user, is_staff=True))
    await svc.cancel_signup(event_id, "20002", GROUP)
    again = await svc.sign_up(request(event_id, 20002, is_staff=True))
    assert (again.status, again.position) == ("waitlisted", 2)
