"""The events use cases without the bot: the rules, the config, the sheet, and
the seats under concurrency (results as data, state read back from the desk)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desk import ConfigError, Desk, FrozenClock
from desk.imports.rows import OwnerRow
from features.events import jobs, manage, reports, signups
from features.events.config import EventsConfig, load_config
from features.events.core import Events
from features.events.errors import (
    AlreadyCancelled,
    AttendNobody,
    AttendTooEarly,
    BadCapacity,
    BadCars,
    BadNote,
    BadParty,
    BadTitle,
    CarsOverParty,
    DeadlineAfterStart,
    DeadlinePast,
    EventNotFound,
    NotSignedUp,
    PartyTooBig,
    SignupClosed,
    StartPast,
    StartTooFar,
)
from features.events.export import build_signup_sheet, signup_list
from features.events.manage import EventDraft, check_new_event
from features.events.models import ATTENDED, NO_SHOW, SIGNED, WAITLISTED
from features.events.signups import SignupRequest, check_signup_args, clean_nickname
from tests.features.conftest import CONSULTANT_QQ
from tests.features.events.conftest import NOW, SH
from tests.support.clock import at

GROUP = "123456"


def draft(capacity: int = 10, cars: int | None = None, **kw: Any) -> EventDraft:
    fields: dict[str, Any] = {
        "title": "试驾会", "starts_at": at(11, 28, 10), "place": "展厅", "capacity": capacity,
        "car_capacity": cars, "deadline_at": None,
    }  # fmt: skip
    return EventDraft(**(fields | kw))


def request(event_id: int, user: int | str, **kw: Any) -> SignupRequest:
    return SignupRequest(event_id=event_id, user_id=str(user), group_id=GROUP, **kw)


async def new_event(ev: Events, capacity: int = 10, cars: int | None = None) -> int:
    created = await manage.create(ev, draft(capacity, cars), group_id=GROUP, created_by="90001")
    return created.event.id


async def tally(ev: Events, event_id: int) -> Any:
    return (await reports.stats(ev, event_id, GROUP)).tally


# -- rules (pure) ---------------------------------------------------------------------


def test_a_new_event_is_checked_against_config_and_clock() -> None:
    config = EventsConfig()
    new = check_new_event(draft(20, 8, deadline_at=at(11, 27, 18)), NOW, config)
    assert (new.title, new.capacity, new.car_capacity, new.deadline_at) == (
        "试驾会", 20, 8, at(11, 27, 18),
    )  # fmt: skip
    assert check_new_event(draft(), NOW, config).deadline_at == at(11, 28, 10)  # until the start
    refused = [
        (draft(title="超" * 31), BadTitle(30)),
        (draft(0), BadCapacity(500)),
        (draft(5, 8), BadCars()),
        (draft(starts_at=at(11, 26, 15)), StartPast(at(11, 26, 15))),
        (draft(starts_at=datetime(2028, 1, 1, tzinfo=SH)), StartTooFar(365)),
        (draft(deadline_at=at(11, 29, 10)), DeadlineAfterStart(at(11, 29, 10), at(11, 28, 10))),
        (draft(deadline_at=at(11, 27, 8)), DeadlinePast(at(11, 27, 8))),
    ]
    for bad, error in refused:
        with pytest.raises(type(error)) as caught:
            check_new_event(bad, NOW, config)
        assert vars(caught.value) == vars(error)


def test_sign_up_sizes_and_notes_are_checked() -> None:
    config = EventsConfig()
    checked = check_signup_args(3, 2, 1, " 带孩子 13812345678 ", config)
    assert (checked.party, checked.cars) == (2, 1)
    assert checked.note is not None and "13812345678" not in checked.note
    assert check_signup_args(3, None, None, "", config).note is None
    with pytest.raises(BadParty):
        check_signup_args(3, 11, None, "", config)
    with pytest.raises(CarsOverParty):
        check_signup_args(3, None, 2, "", config)
    with pytest.raises(BadNote):
        check_signup_args(3, 1, None, "备" * 101, config)


def test_nicknames_are_cleaned() -> None:
    assert clean_nickname("张\u202e三\n 李", "x") == "张三 李"
    assert clean_nickname("\x00", "公众号用户") == "公众号用户"
    assert len(clean_nickname("长" * 40, "x")) == 32


def test_config_from_desk_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config().reminder_hour == 18
    (tmp_path / "events.toml").write_text("reminder_hour = 20\nmax_party = 4\n", encoding="utf-8")
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    config = load_config()
    assert (config.reminder_hour, config.max_party, config.no_show_grace_hours) == (20, 4, 3)
    (tmp_path / "events.toml").write_text("reminder_hour = 25\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reminder_hour"):
        load_config()
    (tmp_path / "events.toml").write_text("reminder_hours = 8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="reminder_hours"):
        load_config()
    (tmp_path / "events.toml").write_text("reminder_hour = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config()


def test_export_keeps_formulas_and_control_characters_out() -> None:
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


# -- use cases ------------------------------------------------------------------------


async def test_create_is_idempotent_per_source_message_and_announces_to_wecom(
    events: Events, desk: Desk
) -> None:
    first = await manage.create(
        events, draft(), group_id=GROUP, created_by="90001", source_key="qq:m1",
        wecom_groups=[("wrChat1", "zhangsan")],
    )  # fmt: skip
    again = await manage.create(
        events, draft(capacity=3), group_id=GROUP, created_by="90001", source_key="qq:m1"
    )
    assert (first.again, again.again, again.event.id, again.event.capacity) == (
        False, True, first.event.id, 10,
    )  # fmt: skip
    [task] = await desk.claim_notifications(["wecom_group"])
    assert (task.kind, task.address, task.payload) == (
        "wecom_mass_send", "wrChat1", {"text": f"announcement #{first.event.id}", "sender": "zhangsan"},
    )  # fmt: skip


async def test_a_sign_up_captures_a_prospect_once_and_not_staff(events: Events, desk: Desk) -> None:
    event_id = await new_event(events)
    owner = await signups.sign_up(events, request(event_id, 20001, nickname="车主", party=2))
    assert (owner.kind, owner.status, owner.party, owner.lead_created) == (
        "signed",
        SIGNED,
        2,
        True,
    )
    lead = await desk.find_lead(qq_id="20001")
    assert lead is not None and lead.id == owner.lead_id and lead.source == f"event:{event_id}"
    again = await signups.sign_up(events, request(event_id, 20001))
    assert (again.kind, again.status, again.party, again.lead_id) == (
        "already", SIGNED, 2, owner.lead_id,
    )  # fmt: skip
    staff = await signups.sign_up(events, request(event_id, CONSULTANT_QQ))
    assert staff.lead_id is None and await desk.find_lead(qq_id=CONSULTANT_QQ) is None
    assert (await tally(events, event_id)).leads == 1


async def test_refusals_change_nothing(events: Events) -> None:
    event_id = await new_event(events, capacity=3)
    with pytest.raises(EventNotFound):
        await signups.sign_up(events, replace(request(event_id, 20001), group_id="654321"))
    with pytest.raises(PartyTooBig) as caught:
        await signups.sign_up(events, request(event_id, 20001, party=4))
    assert (caught.value.capacity, caught.value.party) == (3, 4)
    with pytest.raises(NotSignedUp):
        await signups.cancel_signup(events, event_id, "20001", GROUP)
    assert (await manage.close(events, event_id, GROUP)).already is False
    assert (await manage.close(events, event_id, GROUP)).already is True
    with pytest.raises(SignupClosed):
        await signups.sign_up(events, request(event_id, 20001))
    assert (await tally(events, event_id)).seated_people() == 0


async def test_fifty_concurrent_sign_ups_for_ten_seats(events: Events) -> None:
    event_id = await new_event(events, capacity=10)
    outcomes = await asyncio.gather(
        *(
            signups.sign_up(events, request(event_id, 30000 + i, nickname=f"车主{i}"))
            for i in range(50)
        )
    )
    assert Counter(o.status for o in outcomes) == {SIGNED: 10, WAITLISTED: 40}
    positions = sorted(o.position or 0 for o in outcomes if o.status == WAITLISTED)
    assert positions == list(range(1, 41))
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.seated_parties()) == (10, 10)
    assert (counted.people[WAITLISTED], counted.parties[WAITLISTED], counted.leads) == (40, 40, 50)


async def test_fifty_concurrent_sign_ups_for_the_last_seat(events: Events) -> None:
    event_id = await new_event(events, capacity=3)
    await signups.sign_up(events, request(event_id, 20001, party=2, is_staff=True))
    outcomes = await asyncio.gather(
        *(signups.sign_up(events, request(event_id, 30000 + i, is_staff=True)) for i in range(50))
    )
    assert Counter(o.status for o in outcomes) == {SIGNED: 1, WAITLISTED: 49}
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.seated_parties()) == (3, 2)


async def test_concurrent_cancels_and_sign_ups_fill_exactly(events: Events, desk: Desk) -> None:
    event_id = await new_event(events, capacity=10)
    for i in range(30):
        await signups.sign_up(events, request(event_id, 30000 + i, is_staff=True))
    await asyncio.gather(
        *(signups.cancel_signup(events, event_id, str(30000 + i), GROUP) for i in range(0, 10, 2)),
        *(signups.sign_up(events, request(event_id, 40000 + i, is_staff=True)) for i in range(20)),
    )
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.parties[WAITLISTED]) == (10, 35)
    assert counted.parties["cancelled"] == 5
    promoted = [
        p for p in await desk.claim_notifications(["qq_group"], 100) if ":promoted:" in p.key
    ]
    assert [p.payload["at"] for p in promoted] == [[str(30000 + i)] for i in range(10, 15)]
    assert promoted[0].payload["text"] == f"promoted #{event_id} 1"


async def test_cars_are_capped_for_a_self_drive_trip(events: Events) -> None:
    event_id = await new_event(events, capacity=10, cars=2)
    got = [
        (
            await signups.sign_up(
                events, request(event_id, user, party=party, cars=cars, is_staff=True)
            )
        ).status
        for user, party, cars in [(1_0001, 2, 1), (1_0002, 2, 1), (1_0003, 2, 1), (1_0004, 3, None)]
    ]
    assert got == [SIGNED, SIGNED, WAITLISTED, SIGNED]
    # one car frees: the waitlisted car party goes
    cancelled = await signups.cancel_signup(events, event_id, "10001", GROUP)
    assert (cancelled.was, cancelled.promoted) == (SIGNED, ("10003",))
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.seated_parties(), counted.seated_cars()) == (7, 3, 2)


async def test_a_waitlisted_party_that_shrinks_may_get_in(events: Events, desk: Desk) -> None:
    event_id = await new_event(events, capacity=4)
    await signups.sign_up(events, request(event_id, 20001, party=2, is_staff=True))
    await signups.sign_up(events, request(event_id, 20002, party=2, is_staff=True))
    waiting = await signups.sign_up(events, request(event_id, 20003, party=3, is_staff=True))
    assert (waiting.status, waiting.position) == (WAITLISTED, 1)
    bigger = await signups.sign_up(events, request(event_id, 20001, party=3, is_staff=True))
    assert (bigger.kind, bigger.party, bigger.old_party) == ("kept", 3, 2)
    smaller = await signups.sign_up(events, request(event_id, 20001, party=1, is_staff=True))
    assert (smaller.kind, smaller.promoted) == ("updated", ())  # 3 do not fit in the seat freed
    shrunk = await signups.sign_up(events, request(event_id, 20003, party=1, is_staff=True))
    assert (shrunk.kind, shrunk.status) == ("signed", SIGNED)
    # the asker is answered directly, not @-ed in the group as well
    assert await desk.claim_notifications(["qq_group"]) == []
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.seated_parties()) == (4, 3)


async def test_sign_up_again_after_cancelling_goes_to_the_back(events: Events) -> None:
    event_id = await new_event(events, capacity=1)
    for user in (20001, 20002, 20003):
        await signups.sign_up(events, request(event_id, user, is_staff=True))
    await signups.cancel_signup(events, event_id, "20002", GROUP)
    again = await signups.sign_up(events, request(event_id, 20002, is_staff=True))
    assert (again.status, again.position) == (WAITLISTED, 2)
    mine = await signups.my_signups(events, "20002", None)
    assert [(m.event.id, m.status, m.position) for m in mine] == [(event_id, WAITLISTED, 2)]


async def test_attendance_no_shows_and_the_list(
    events: Events, desk: Desk, desk_clock: FrozenClock
) -> None:
    event_id = await new_event(events, capacity=2)
    for user, name in ((20001, "张三"), (20002, None), (20003, "王五")):
        await signups.sign_up(events, request(event_id, user, nickname=name, note="带孩子"))
    desk_clock.set(at(11, 28, 9))
    result = await manage.mark_attended(events, event_id, ["20001", "20003", "x"], GROUP)
    assert (result.marked, result.not_signed) == (["张三"], ["王五"])
    desk_clock.set(at(11, 28, 14))
    assert await desk.write(lambda uow: jobs.mark_no_shows(events, uow)) == 1
    counted = await tally(events, event_id)
    assert (counted.people[ATTENDED], counted.people[NO_SHOW]) == (1, 1)
    found = await signup_list(events, event_id, GROUP)
    assert [(r.number, r.nickname, r.qq_id, r.status, r.position) for r in found.rows] == [
        (1, "张三", "20001", ATTENDED, None),
        (2, "20002", "20002", NO_SHOW, None),
        (3, "王五", "20003", WAITLISTED, 1),
    ]
    assert found.rows[0].signed_at == NOW.astimezone(SH)


async def test_cancelling_an_event_tells_everyone_once(events: Events, desk: Desk) -> None:
    event_id = await new_event(events, capacity=1)
    await signups.sign_up(events, request(event_id, 20001))
    await signups.sign_up(events, request(event_id, 20002))
    result = await manage.cancel_event(events, event_id, GROUP)
    assert (result.told_in_group, result.told_by_dm) == (2, 0)
    with pytest.raises(AlreadyCancelled):
        await manage.cancel_event(events, event_id, GROUP)
    [post] = await desk.claim_notifications(["qq_group"])
    assert (post.key, post.payload) == (
        f"event:{event_id}:cancelled", {"text": f"cancelled #{event_id}", "at": ["20001", "20002"]},
    )  # fmt: skip
    assert await reports.open_events(events, GROUP) == []


async def test_attendance_by_signup_marks_official_account_followers_too(
    events: Events, desk_clock: FrozenClock
) -> None:
    event_id = await new_event(events, capacity=3)
    await signups.sign_up(events, request(event_id, 20001, nickname="张三"))
    await signups.sign_up(
        events,
        SignupRequest(event_id, "oa-openid-1", platform="wechat_oa", fallback_name="公众号用户"),
    )
    ids = [r.signup_id for r in (await signup_list(events, event_id, GROUP)).rows]
    with pytest.raises(AttendTooEarly):
        await manage.mark_signups_attended(events, event_id, ids)
    desk_clock.set(at(11, 28, 9))
    with pytest.raises(AttendNobody):
        await manage.mark_signups_attended(events, event_id, [0, -1])
    result = await manage.mark_signups_attended(events, event_id, [ids[1], 999999])
    assert (result.marked, result.not_signed) == (["公众号用户"], ["999999"])
    rows = (await signup_list(events, event_id, GROUP)).rows
    assert [(r.platform, r.status) for r in rows] == [("qq", SIGNED), ("wechat_oa", ATTENDED)]


async def test_owners_sign_ups_are_counted_apart_and_make_no_lead(
    events: Events, desk: Desk
) -> None:
    """An owner (desk.owners) signs up and is seated like anyone; the sums tell owners
    from new customers (活动统计, 报表), and only the new customer is a lead."""
    await desk.import_owners([OwnerRow(line=2, qq_id="20001", name="老车主")])
    event_id = await new_event(events)
    owner = await signups.sign_up(events, request(event_id, 20001, nickname="老车主", party=2))
    assert owner.status == SIGNED and owner.lead_id is None and not owner.lead_created
    newcomer = await signups.sign_up(events, request(event_id, 20002, nickname="新朋友"))
    assert newcomer.lead_created
    counted = await tally(events, event_id)
    assert (counted.seated_people(), counted.owners, counted.prospects, counted.leads) == (
        3,
        1,
        1,
        1,
    )

    async def summary(uow: Any) -> reports.EventsSummary:
        return await reports.events_in(uow, desk.period("month"))

    month = await desk.read(summary)
    assert (month.owner_signups, month.prospect_signups, month.leads) == (1, 1, 1)
