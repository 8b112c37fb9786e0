"""`python -m desk`: imports over the bot's own database and settings (a dry run
changes nothing, a run imports, a re-run finds nothing to change, a bad file is
refused in Chinese with exit 1, rejected rows land in an errors file) and the lead
export (phones only when allowed, formula-looking text kept as text, the filters
applied). The commands run through `main(argv)` as the operator's shell would,
each over its own event loop, so these tests are synchronous."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from desk import SYSTEM, Desk, FrozenClock
from desk.cli import main
from tests.desk.conftest import START, database_url, make_settings


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(tmp_path: Path, *argv: str) -> Run:
    """`python -m desk *argv` against the test's database, no .env read."""
    out, err = StringIO(), StringIO()
    config = tmp_path / "config"
    config.mkdir(exist_ok=True)
    environ = {"DESK_DATABASE_URL": database_url(tmp_path), "DESK_CONFIG_DIR": str(config)}
    code = main(list(argv), environ=environ, cwd=tmp_path, out=out, err=err)
    return Run(code, out.getvalue(), err.getvalue())


async def _with_desk(tmp_path: Path, step):
    desk = await Desk.open(make_settings(tmp_path), FrozenClock(START))
    try:
        return await step(desk)
    finally:
        await desk.close()


def with_desk(tmp_path: Path, step):
    return asyncio.run(_with_desk(tmp_path, step))


# -- export --------------------------------------------------------------------------


async def _story(desk: Desk) -> dict[str, int]:
    """王顾问's 张先生 (autohome, following) and his "=HYPERLINK" lead, 李顾问's 赵总."""
    wang = await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")
    li = await desk.add_member(SYSTEM, name="李顾问", qq_id="10002")
    zhang = (await desk.capture(channel="autohome", name="张先生", phone="13800138001")).lead.id
    evil = (await desk.capture(channel="walk_in", name='=HYPERLINK("http://x","点我")',
                               phone="13800138002")).lead.id  # fmt: skip
    zhao = (await desk.capture(channel="walk_in", name="赵总", phone="13800138003")).lead.id
    for lead_id, member in ((zhang, wang), (evil, wang), (zhao, li)):
        await desk.assign(SYSTEM, lead_id, member.id)
    await desk.follow_up(SYSTEM, zhang, "聊过了", level="A")
    return {"zhang": zhang, "evil": evil, "zhao": zhao}


def rows_of(path: Path) -> list[dict[str, object]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_export_has_every_lead_with_phones_and_no_formulas(tmp_path: Path) -> None:
    ids = with_desk(tmp_path, _story)
    out = tmp_path / "leads.xlsx"
    run = cli(tmp_path, "export", "leads", str(out))
    assert run.code == 0, run.err
    assert "已导出 3 条线索" in run.out and "含手机号" in run.out
    rows = {r["编号"]: r for r in rows_of(out)}
    assert set(rows) == set(ids.values())
    zhang = rows[ids["zhang"]]
    assert zhang["姓名"] == "张先生" and zhang["手机号"] == "13800138001"
    assert zhang["渠道"] == "汽车之家" and zhang["阶段"] == "跟进中" and zhang["级别"] == "A"
    assert zhang["顾问"] == "王顾问"
    assert zhang["创建时间"] == START.replace(tzinfo=None)  # the dealer's local time
    assert rows[ids["evil"]]["姓名"] == '\'=HYPERLINK("http://x","点我")'
    assert not list(tmp_path.glob("*.part"))


def test_the_export_filters_and_leaves_phones_out_when_asked(tmp_path: Path) -> None:
    ids = with_desk(tmp_path, _story)
    out = tmp_path / "wang.xlsx"
    run = cli(tmp_path, "export", "leads", str(out), "--consultant", "王顾问", "--no-phones",
              "--from", "2026-11-27", "--to", "2026-11-27")  # fmt: skip
    assert run.code == 0, run.err
    rows = rows_of(out)
    assert {r["编号"] for r in rows} == {ids["zhang"], ids["evil"]}
    assert all("手机号" not in r for r in rows)
    assert "13800138001" not in repr(rows)

    run = cli(tmp_path, "export", "leads", str(out), "--stage", "跟进中", "--channel", "汽车之家")
    assert [r["编号"] for r in rows_of(out)] == [ids["zhang"]]
    run = cli(tmp_path, "export", "leads", str(out), "--from", "2026-11-28")
    assert run.code == 0 and rows_of(out) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--consultant", "没这人"), "花名册里没有叫 没这人 的顾问"),
        (("--stage", "飞了"), "没有这个阶段"),
        (("--from", "11/27"), "日期要写成"),
        (("--period", "week", "--from", "2026-11-01"), "只能用一种"),
    ],
)
def test_a_bad_filter_is_refused_in_chinese(tmp_path: Path, argv, message) -> None:
    run = cli(tmp_path, "export", "leads", str(tmp_path / "x.xlsx"), *argv)
    assert run.code == 1 and message in run.err
    assert "Traceback" not in run.err and not (tmp_path / "x.xlsx").exists()


def test_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert cli(tmp_path, "export").code == 2
    assert cli(tmp_path, "import", "leads", "x.csv", "--source", "nowhere").code == 2
    assert "参数不对" in capsys.readouterr().err
    run = cli(tmp_path, "export", "leads", str(tmp_path / "leads.csv"))
    assert run.code == 1 and ".xlsx" in run.err
