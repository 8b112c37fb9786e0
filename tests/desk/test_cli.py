"""`python -m desk`: imports over the bot's own database and settings (a dry run
changes nothing, a run imports, a re-run finds nothing to change, a bad file is
refused in Chinese with exit 1, rejected rows land in an errors file) and the lead
export (phones only when allowed, formula-looking text kept as text, the filters
applied). The commands run through `main(argv)` as the operator's shell would,
each over its own event loop, so these tests are synchronous."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from io import StringIO
from pathlib import Path

import pytest
from openpyxl import load_workbook

from desk import SYSTEM, Desk, Forbidden, FrozenClock, export
from desk.cli import main
from desk.leadlist import LeadFilter
from desk.settings import read_env
from tests.desk.conftest import START, Team, count_rows, database_url, make_settings


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


# -- import ------------------------------------------------------------------------

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"


def fixture(tmp_path: Path, name: str) -> Path:
    """A copy of tests/fixtures/imports/<name> in the test's folder (the errors
    file is written beside its input)."""
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    return path


def lead_count(tmp_path: Path) -> int:
    return with_desk(tmp_path, lambda desk: count_rows(desk, "leads"))


def test_a_dry_run_previews_and_changes_nothing(tmp_path: Path) -> None:
    path = fixture(tmp_path, "bad_rows.csv")
    run = cli(tmp_path, "import", "leads", str(path), "--dry-run")
    assert run.code == 0, run.err
    assert "姓名 → 姓名" in run.out and "手机号 → 手机号" in run.out
    assert "未识别的表头" in run.out and "备注" in run.out  # reported, never guessed
    assert "【预览，未改动数据库】" in run.out
    assert "13812340101" not in run.out and "138****0101" in run.out  # masked
    assert "新建：2" in run.out and "文件内重复：1" in run.out and "拒绝：7" in run.out
    assert "第 4 行：手机号无效：1381234010" in run.out
    assert lead_count(tmp_path) == 0


async def _consultant(desk: Desk) -> None:
    await desk.add_member(SYSTEM, name="王顾问", qq_id="10001")


def test_a_run_imports_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    with_desk(tmp_path, _consultant)
    path = fixture(tmp_path, "autohome.csv")
    run = cli(tmp_path, "import", "leads", str(path), "--source", "autohome")
    assert run.code == 0, run.err
    assert "【导入完成】共 4 行" in run.out and "新建：4" in run.out
    assert "王顾问：新线索 4，合并 0" in run.out
    assert lead_count(tmp_path) == 4
    assert not (tmp_path / "autohome.errors.xlsx").exists()  # nothing rejected

    again = cli(tmp_path, "import", "leads", str(path), "--source", "autohome")
    assert again.code == 0, again.err
    assert "新建：0" in again.out and "无变化（已导入过）：4" in again.out
    assert "没有任何改动" in again.out
    assert lead_count(tmp_path) == 4


def test_rejected_rows_go_to_an_errors_file_beside_the_input(tmp_path: Path) -> None:
    path = fixture(tmp_path, "bad_rows.csv")
    run = cli(tmp_path, "import", "leads", str(path))
    assert run.code == 0, run.err
    errors = tmp_path / "bad_rows.errors.xlsx"
    assert f"被拒绝的行已写入：{errors}" in run.out
    sheet = load_workbook(errors).active
    assert sheet is not None
    header, *rejected = sheet.iter_rows(values_only=True)
    assert "姓名" in header and "手机号" in header
    assert len(rejected) == 7 and any("1381234010" in r for r in rejected)
    assert lead_count(tmp_path) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("姓名,城市\n张三,上海\n", "找不到手机号列"),
        (None, "找不到文件"),
    ],
)
def test_a_bad_file_is_refused_in_chinese(tmp_path: Path, content, message) -> None:
    path = tmp_path / "leads.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    run = cli(tmp_path, "import", "leads", str(path))
    assert run.code == 1 and message in run.err, run.err
    assert "Traceback" not in run.err
    if content is not None:
        assert lead_count(tmp_path) == 0


def test_owners_import(tmp_path: Path) -> None:
    path = tmp_path / "owners.csv"
    path.write_text(
        "车主姓名,手机号,车型,购车日期\n陈车主,13900139001,汉EV,2025-05-01\n"
        "林车主,139,汉EV,2025-05-02\n",
        "utf-8",
    )
    dry = cli(tmp_path, "import", "owners", str(path), "--dry-run")
    assert dry.code == 0, dry.err
    assert "新建：1" in dry.out and "拒绝：1" in dry.out and "第 3 行" in dry.out
    assert with_desk(tmp_path, lambda desk: count_rows(desk, "owners")) == 0
    sheet = load_workbook(tmp_path / "owners.errors.xlsx").active
    assert sheet is not None and "林车主" in list(sheet.iter_rows(values_only=True))[1]
    run = cli(tmp_path, "import", "owners", str(path))
    assert run.code == 0 and "新建：1" in run.out
    assert with_desk(tmp_path, lambda desk: count_rows(desk, "owners")) == 1
    again = cli(tmp_path, "import", "owners", str(path))
    assert again.code == 0 and "新建：0" in again.out


def test_python_m_desk_runs_a_dry_run(tmp_path: Path) -> None:
    """The command as the operator types it: its own process, the settings from the
    environment (as the bot reads them), the database untouched."""
    path = fixture(tmp_path, "yiche.csv")  # GBK, as 易车 exports it
    env = {**os.environ, "DESK_DATABASE_URL": database_url(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "desk", "import", "leads", str(path), "--source", "yiche",
         "--dry-run"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "【预览，未改动数据库】" in done.stdout and "新建：3" in done.stdout
    assert lead_count(tmp_path) == 0


def test_the_settings_are_read_as_the_bot_reads_them(tmp_path: Path) -> None:
    """.env, then .env.{ENVIRONMENT} over it, the environment over both: the command
    opens the bot's database without being told where it is."""
    with_desk(tmp_path, _story)
    (tmp_path / ".env").write_text("DESK_DATABASE_URL=sqlite+aiosqlite:///nowhere.db\n")
    (tmp_path / ".env.prod").write_text(f"DESK_DATABASE_URL={database_url(tmp_path)}\n")
    out = tmp_path / "all.xlsx"
    assert main(["export", "leads", str(out)], environ={}, cwd=tmp_path, out=StringIO()) == 0
    assert len(rows_of(out)) == 3
    assert read_env({"ENVIRONMENT": "dev", "DESK_TIMEZONE": "Asia/Urumqi"}, tmp_path) == {
        "DESK_DATABASE_URL": "sqlite+aiosqlite:///nowhere.db",  # no .env.dev
        "ENVIRONMENT": "dev",
        "DESK_TIMEZONE": "Asia/Urumqi",
    }


async def test_only_managers_export_phones(
    desk: Desk, team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "_BATCH", 1)  # every lead its own batch: the streaming path
    mine = (await desk.capture(channel="walk_in", name="甲", phone="13800138001")).lead.id
    other = (await desk.capture(channel="walk_in", name="乙", phone="13800138002")).lead.id
    await desk.assign(SYSTEM, mine, team.wang.id)
    await desk.assign(SYSTEM, other, team.li.id)
    out = tmp_path / "x.xlsx"
    with pytest.raises(Forbidden):
        await desk.export_leads(team.wang.actor(), LeadFilter(), out, phones=True)
    assert await desk.export_leads(team.wang.actor(), LeadFilter(), out, phones=False) == 1
    assert [r["编号"] for r in rows_of(out)] == [mine]
    assert await desk.export_leads(team.manager.actor(), LeadFilter(), out, phones=True) == 2
