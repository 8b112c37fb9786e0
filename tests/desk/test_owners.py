"""Owners (车主, desk.owners): imported, marked by a manager or won; never made leads
again by a prospect's capture (an event sign-up)."""

from __future__ import annotations

from datetime import date

import pytest

from desk import SYSTEM, Desk, Forbidden, InvalidInput
from desk import service as desk_service
from desk.imports.rows import OwnerRow, RejectedRow
from tests.desk.conftest import Team, count_rows


def owner(line: int, **fields: object) -> OwnerRow:
    return OwnerRow(line=line, **fields)  # type: ignore[arg-type]


LIST = [
    owner(2, name="赵车主", phone="13800000001", qq_id="30001", car_model="汉EV",
          plate="粤B12345", purchased_on=date(2025, 5, 1)),
    owner(3, name="钱车主", phone="13800000002", wechat="oWX_abcdefgh123"),
    owner(4, name="孙车主", qq_id="30003", wechat="wmEXTERNAL0001"),
    RejectedRow(line=5, reason="手机号格式不对", cells=("李", "138")),
    owner(6, name="赵车主", phone="13800000001"),  # row 2 again
]  # fmt: skip


async def sign_up(desk: Desk, **handle: str):
    """An event sign-up's capture: in a feature's transaction, as a prospect."""
    fields: dict[str, object] = {"channel": "event:7", "event_key": f"m:{sorted(handle.items())}"}
    return await desk.write(lambda uow: desk.capture_prospect_in(uow, SYSTEM, **fields, **handle))


async def test_an_owner_list_is_imported_once_and_a_rerun_changes_nothing(desk: Desk) -> None:
    dry = await desk.import_owners(LIST, dry_run=True)
    assert await count_rows(desk, "owners") == 0  # a dry run writes nothing
    report = await desk.import_owners(LIST)
    expected = {"created": 3, "merged": 0, "unchanged": 0, "duplicate": 1, "rejected": 1}
    assert dry.counts == report.counts == expected
    assert [(o.line, o.outcome) for o in report.preview] == [
        (2, "created"), (3, "created"), (4, "created"), (5, "rejected"), (6, "duplicate"),
    ]  # fmt: skip
    assert report.preview[0].masked_phone == "138****0001"  # never the whole number
    assert report.preview[4].reason == "与第 2 行是同一人"
    again = await desk.import_owners(LIST)
    assert again.counts == expected | {"created": 0, "unchanged": 3}
    assert await count_rows(desk, "owners") == 3
    zhao = await desk.find_owner(qq_id="30001")
    assert zhao is not None and zhao.phone == "13800000001" and zhao.source == "import"
    assert (zhao.car_model, zhao.plate, zhao.purchased_on) == ("汉EV", "粤B12345", date(2025, 5, 1))
    sun = await desk.find_owner(wecom_external_userid="wmEXTERNAL0001")
    assert sun is not None and sun.wechat_openid is None  # a WeCom id, not an openid
    assert await desk.is_owner(wechat_openid="oWX_abcdefgh123")


async def test_a_known_owner_gains_what_it_lacked_and_keeps_what_it_had(desk: Desk) -> None:
    await desk.import_owners([owner(2, name="赵车主", phone="13800000001")])
    report = await desk.import_owners(
        [owner(2, name="别名", phone="13800000001", qq_id="30001", car_model="汉EV")]
    )
    assert report.counts["merged"] == 1
    found = await desk.find_owner(qq_id="30001")
    assert found is not None and (found.name, found.car_model) == ("赵车主", "汉EV")
    assert (await desk.import_owners([owner(9, phone="13800000001", qq_id="30001")])).counts[
        "unchanged"
    ] == 1


async def test_batches_find_the_files_duplicates_across_them(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_service, "IMPORT_BATCH_ROWS", 2)
    rows = [owner(n, phone=f"1380000{n:04d}") for n in range(2, 9)]
    rows.append(owner(9, qq_id="30009", phone="13800000003"))  # row 3's phone, a later batch
    seen: list[tuple[int, int | None]] = []
    report = await desk.import_owners(
        iter(rows), progress=lambda done, total: seen.append((done, total))
    )
    assert report.counts["created"] == 7 and report.counts["duplicate"] == 1
    assert seen[-1] == (8, 8) and len(seen) > 2  # progress as the batches go
    assert not await desk.is_owner(qq_id="30009")


async def test_a_bad_handle_rejects_the_row_not_the_import(desk: Desk) -> None:
    report = await desk.import_owners([owner(2, qq_id="12"), owner(3, phone="13800000003")])
    assert report.counts["rejected"] == 1 and report.counts["created"] == 1
    assert report.preview[0].reason == "QQ号不对"


async def test_an_owners_sign_up_makes_no_lead_a_prospects_does(desk: Desk, team: Team) -> None:
    await desk.import_owners(LIST)
    leads, entries = await count_rows(desk, "leads"), await count_rows(desk, "timeline")
    assert await sign_up(desk, qq_id="30001") is None
    assert await sign_up(desk, phone="13800000002") is None
    assert await sign_up(desk, wechat_openid="oWX_abcdefgh123") is None
    assert (await count_rows(desk, "leads"), await count_rows(desk, "timeline")) == (leads, entries)
    prospect = await sign_up(desk, qq_id="40001")
    assert prospect is not None and prospect.created
    # a plain capture (someone asking about a car in a DM) is not a sign-up: still taken
    assert (await desk.capture(channel="qq_dm", qq_id="30003")).created


async def test_a_won_lead_becomes_an_owner(desk: Desk, team: Team) -> None:
    lead = (
        await desk.capture(channel="walk_in", qq_id="20002", phone="13900000002", name="周先生",
                           car_model="海豹")
    ).lead  # fmt: skip
    await desk.follow_up(team.wang.actor(), lead.id, "谈妥了", level="H")
    await desk.record_order(team.wang.actor(), lead.id)
    assert not await desk.is_owner(qq_id="20002")
    await desk.record_deal(team.wang.actor(), lead.id)
    found = await desk.find_owner(phone="13900000002")
    assert found is not None and (found.source, found.lead_id) == ("won", lead.id)
    assert (found.qq_id, found.name, found.car_model) == ("20002", "周先生", "海豹")
    assert found.purchased_on == date(2026, 11, 27)
    assert await sign_up(desk, qq_id="20002") is None


async def test_a_won_lead_already_imported_is_linked_not_doubled(desk: Desk, team: Team) -> None:
    await desk.import_owners([owner(2, phone="13900000002", name="周先生")])
    lead = (await desk.capture(channel="walk_in", qq_id="20002", phone="13900000002")).lead
    await desk.follow_up(team.wang.actor(), lead.id, "谈妥了", level="H")
    await desk.record_order(team.wang.actor(), lead.id)
    await desk.record_deal(team.wang.actor(), lead.id)
    assert await count_rows(desk, "owners") == 1
    found = await desk.find_owner(qq_id="20002")
    assert found is not None and (found.source, found.lead_id) == ("import", lead.id)


async def test_a_manager_marks_and_unmarks_an_owner(desk: Desk, team: Team) -> None:
    manager = team.manager.actor()
    marked = await desk.mark_owner(manager, qq_id="30001", name="赵车主")
    assert marked.created and marked.owner.source == "manual"
    again = await desk.mark_owner(manager, qq_id="30001", car_model="汉EV")
    assert not again.created and again.owner.car_model == "汉EV"
    assert await count_rows(desk, "owners") == 1
    assert await sign_up(desk, qq_id="30001") is None
    removed = await desk.unmark_owner(manager, qq_id="30001")
    assert removed is not None and removed.name == "赵车主"
    assert await desk.unmark_owner(manager, qq_id="30001") is None
    assert await sign_up(desk, qq_id="30001") is not None  # a prospect again


async def test_only_managers_mark_owners_and_bad_input_is_refused(desk: Desk, team: Team) -> None:
    with pytest.raises(Forbidden):
        await desk.mark_owner(team.wang.actor(), qq_id="30001")
    with pytest.raises(Forbidden):
        await desk.unmark_owner(team.wang.actor(), qq_id="30001")
    with pytest.raises(InvalidInput, match="QQ号不对"):
        await desk.mark_owner(SYSTEM, qq_id="abc")
    with pytest.raises(InvalidInput):
        await desk.mark_owner(SYSTEM, qq_id="30001", car_model="长" * 65)
    with pytest.raises(InvalidInput):
        await desk.mark_owner(SYSTEM)
    assert await count_rows(desk, "owners") == 0


async def test_owners_among_a_groups_members(desk: Desk) -> None:
    await desk.import_owners(LIST)
    assert await desk.owners_among(["30001", "30003", "40001", "not-a-qq"]) == {"30001", "30003"}


async def test_an_owners_data_is_shown_and_erased_on_request(desk: Desk, team: Team) -> None:
    await desk.import_owners(LIST)
    data = await desk.describe_person("qq", "30001")
    assert data.features["owners"]["owners"][0]["plate"] == "粤B12345"
    erasure = await desk.erase_person("qq", "30001")
    assert erasure.counts["owners.owners"] == 1
    assert not await desk.is_owner(phone="13800000001")
    assert await count_rows(desk, "owners") == 2
