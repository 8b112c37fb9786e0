"""Reading import files: each platform's header shape, encodings, every kind of bad
row with its reason, owners, the errors file, and a large file read streamed.

Fixtures: tests/fixtures/imports (made by make_fixtures.py there)."""

from __future__ import annotations

import csv
import gc
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook

from desk.errors import ConfigError, ImportFileError
from desk.imports.config import load_imports_config
from desk.imports.errors import errors_path_for, write_errors
from desk.imports.read import open_lead_file, open_owner_file
from desk.imports.rows import LeadRow, OwnerRow, RejectedRow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "imports"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
CONFIG = load_imports_config()


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def read_leads(path: Path, source: str = "other") -> tuple[list[LeadRow], list[RejectedRow]]:
    with open_lead_file(path, source=source, config=CONFIG, tz=SHANGHAI, now=NOW) as leads:
        rows = list(leads.rows())
    return [r for r in rows if isinstance(r, LeadRow)], [
        r for r in rows if isinstance(r, RejectedRow)
    ]


def read_owners(path: Path) -> tuple[list[OwnerRow], list[RejectedRow]]:
    with open_owner_file(path, config=CONFIG, tz=SHANGHAI, now=NOW) as owners:
        rows = list(owners.rows())
    return [r for r in rows if isinstance(r, OwnerRow)], [
        r for r in rows if isinstance(r, RejectedRow)
    ]


@pytest.mark.parametrize(
    ("name", "source", "mapped"),
    [
        ("autohome.csv", "autohome", {
            "name": "name", "phone": "phone", "province": "city", "city": "city", "county": "city",
            "series_name": "car_model", "spec_name": "car_model", "create_time": "created_at",
            "order_type": "inquiry",
        }),
        ("yiche.csv", "yiche", {
            "线索ID": "platform_id", "姓名": "name", "电话": "phone", "省份": "city", "城市": "city",
            "意向车型": "car_model", "下单时间": "created_at", "询价类型": "inquiry",
        }),
        ("dongchedi.csv", "dongchedi", {
            "姓名": "name", "手机号": "phone", "省份": "city", "城市": "city", "车系": "car_model",
            "车型": "car_model", "创建时间": "created_at", "询价类型": "inquiry",
        }),
        ("douyin.csv", "douyin", {
            "id": "platform_id", "name": "name", "telephone": "phone", "city": "city",
            "clue_type": "inquiry", "create_time": "created_at",
        }),
        ("oem.xlsx", "oem", {
            "线索唯一ID": "platform_id", "手机号": "phone", "客户姓名": "name",
            "线索创建时间": "created_at", "一级渠道名称": "channel_path",
            "二级渠道名称": "channel_path", "三级渠道名称": "channel_path", "所在城市": "city",
            "首触意向车型": "car_model", "分配时间": "assigned_at", "首触时间": "first_contact_at",
            "线索评级": "level", "到店时间": "visited_at", "试驾时间": "test_drive_at",
            "战败原因": "defeat_reason", "分配顾问": "consultant_name",
        }),
    ],
)  # fmt: skip
def test_each_sources_headers_map_to_fields(name: str, source: str, mapped: dict[str, str]) -> None:
    with open_lead_file(FIXTURES / name, source=source, config=CONFIG, tz=SHANGHAI, now=NOW) as f:
        assert f.headers.mapped == mapped
        assert f.headers.unknown == ()
        rows = list(f.rows())
    assert rows and all(isinstance(r, LeadRow) for r in rows)


def test_autohome_rows_join_place_and_model_and_read_order_type_codes() -> None:
    rows, rejected = read_leads(FIXTURES / "autohome.csv", "autohome")
    assert rejected == []
    first, second, third, _ = rows
    assert (first.line, first.phone, first.name) == (2, "13812340001", "张伟")
    assert first.city == "北京市朝阳区"  # 北京市 + 北京市 + 朝阳区
    assert first.car_model == "汉兰达 2026款 双擎四驱"  # the spec repeats the series
    assert second.car_model == "凯美瑞 2026款 2.0S"
    assert first.created_at == shanghai(2026, 11, 5, 14, 3, 22)
    assert second.created_at == shanghai(2026, 11, 5, 14, 3)  # 2026/11/5 14:03
    assert third.created_at == shanghai(2026, 11, 6)
    assert rows[3].created_at == shanghai(2026, 11, 7)  # 20261107
    assert [r.inquiry for r in rows] == ["price", "test_drive", "trade_in", "price"]


def test_a_bare_id_column_is_a_platform_id_only_for_a_platforms_file() -> None:
    with open_lead_file(FIXTURES / "douyin.csv", source="other", config=CONFIG, tz=SHANGHAI) as f:
        assert f.headers.unknown == ("id",)
        assert all(r.platform_id is None for r in f.rows() if isinstance(r, LeadRow))


def test_douyin_clue_types_import_without_an_inquiry_type() -> None:
    rows, rejected = read_leads(FIXTURES / "douyin.csv", "douyin")
    assert rejected == []
    assert [(r.platform_id, r.inquiry) for r in rows] == [
        ("7301234567890123456", None), ("7301234567890123457", None), ("7301234567890123458", None)
    ]  # fmt: skip


def test_oem_xlsx_title_line_date_cells_serials_channels_and_levels() -> None:
    with open_lead_file(
        FIXTURES / "oem.xlsx", source="oem", config=CONFIG, tz=SHANGHAI, now=NOW
    ) as f:
        assert f.header_line == 2  # the title line above the header is not the header
        assert f.expected_rows == 3
        rows = list(f.rows())
    assert all(isinstance(r, LeadRow) for r in rows)
    first, second, third = rows  # type: ignore[misc]
    assert isinstance(first, LeadRow) and isinstance(second, LeadRow) and isinstance(third, LeadRow)
    assert first.line == 3
    assert first.channel_path == ("垂直媒体", "汽车之家", "询价")
    assert first.created_at == shanghai(2026, 11, 1, 9, 30)
    assert first.visited_at == shanghai(2026, 11, 3, 15, 0)
    assert first.test_drive_at == shanghai(2026, 11, 3, 15, 40)
    assert (first.level, first.consultant_name) == ("H", "李顾问")
    assert second.phone == "13912340014"  # a number cell
    assert second.created_at == shanghai(2026, 11, 2, 12, 0)  # an Excel serial number
    assert second.assigned_at == shanghai(2026, 11, 2, 12, 5)  # text
    assert second.level == "A"  # "A级"
    assert third.channel_path == ("自有渠道", "官网")
    assert third.defeat_reason == "购买他品牌"


def test_gbk_utf8_and_utf8_bom_read_the_same(tmp_path: Path) -> None:
    content = (FIXTURES / "yiche.csv").read_bytes().decode("gbk")
    assert "陈静" in content
    read = {}
    for encoding in ("gbk", "gb18030", "utf-8", "utf-8-sig"):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(content.encode(encoding))
        read[encoding] = read_leads(path, "yiche")
    assert read["gbk"][0] and not read["gbk"][1]
    assert read["gbk"] == read["gb18030"] == read["utf-8"] == read["utf-8-sig"]


def test_a_file_in_no_known_encoding_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes("姓名,手机号\n".encode() + b"\xff\xfe\xff\x80\n")
    with pytest.raises(ImportFileError, match="编码"):
        open_lead_file(path, config=CONFIG, tz=SHANGHAI)


def test_an_old_xls_file_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(ImportFileError, match=r"\.xls"):
        open_lead_file(path, config=CONFIG, tz=SHANGHAI)


def test_a_file_without_phone_or_lead_id_column_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "nophone.csv"
    path.write_text("姓名,城市\n张三,北京\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="找不到手机号列") as caught:
        open_lead_file(path, config=CONFIG, tz=SHANGHAI)
    assert "姓名、城市" in caught.value.message


def test_headers_match_ignoring_case_width_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(
        ' PHONE ,ＮＡＭＥ,Ｃｉｔｙ,"线索\n创建时间"\n１３８１２３４０００１,张三,北京,2026-11-05\n',
        encoding="utf-8",
    )
    with open_lead_file(path, config=CONFIG, tz=SHANGHAI, now=NOW) as f:
        assert f.headers.mapped == {
            "PHONE": "phone", "ＮＡＭＥ": "name", "Ｃｉｔｙ": "city", "线索\n创建时间": "created_at"
        }  # fmt: skip
        (row,) = f.rows()
    assert isinstance(row, LeadRow) and (row.phone, row.name, row.city) == (
        "13812340001",
        "张三",
        "北京",
    )


def test_every_kind_of_bad_row_is_rejected_with_its_reason() -> None:
    with open_lead_file(FIXTURES / "bad_rows.csv", config=CONFIG, tz=SHANGHAI, now=NOW) as f:
        assert f.headers.unknown == ("备注",)
        rows = list(f.rows())
    reasons = {r.line: r.reason for r in rows if isinstance(r, RejectedRow)}
    assert reasons == {
        3: "手机号为空",
        4: "手机号无效：1381234010",
        5: "线索创建时间无法识别：2026-13-45 10:00",
        6: "线索创建时间晚于现在：2031-01-01 10:00:00",
        7: "线索评级未知：X",
        8: "询价类型未知：团购",
        11: "手机号为空",
    }
    valid = [r for r in rows if isinstance(r, LeadRow)]
    # The duplicate phone (line 9) is read like any row: the writer tells duplicates.
    assert [(r.line, r.phone) for r in valid] == [
        (2, "13812340101"), (9, "13812340101"), (12, "13812340111")
    ]  # fmt: skip
    assert 10 not in {r.line for r in rows}  # the empty row is skipped silently
    assert reasons.keys().isdisjoint(r.line for r in valid)


def test_a_row_with_an_invalid_phone_is_kept_when_it_has_the_platform_id(tmp_path: Path) -> None:
    path = tmp_path / "masked.csv"
    path.write_text(
        "线索ID,手机号,姓名\nX1,138****5678,张三\n,138****5679,李四\n", encoding="utf-8"
    )
    rows, rejected = read_leads(path)
    assert [(r.platform_id, r.phone, r.name) for r in rows] == [("X1", None, "张三")]
    assert [(r.line, r.reason) for r in rejected] == [(3, "手机号无效：138****5679")]


def test_a_booked_visit_or_test_drive_ahead_is_kept_a_created_time_ahead_is_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "booked.csv"
    path.write_text(
        "手机号,线索创建时间,到店时间,试驾时间\n"
        "13812340001,2026-11-30 10:00,2026-12-05 10:00,2026-12-06 15:00\n"
        "13812340002,2026-12-05 10:00,,\n"
        "13812340003,2026-11-30 10:00,2028-12-05 10:00,\n",
        encoding="utf-8",
    )
    rows, rejected = read_leads(path)
    assert [(r.visited_at, r.test_drive_at) for r in rows] == [
        (shanghai(2026, 12, 5, 10), shanghai(2026, 12, 6, 15))
    ]
    assert [(r.line, r.reason) for r in rejected] == [
        (3, "线索创建时间晚于现在：2026-12-05 10:00"),
        (4, "到店时间晚于现在：2028-12-05 10:00"),
    ]


def test_text_is_made_storable_and_capped(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    long_name = "张" * 100
    path.write_text(
        f'手机号,姓名,意向车型\n13812340001,"王\x00五\x07",{long_name}\n', encoding="utf-8"
    )
    (row,), _ = read_leads(path)
    assert row.name == "王五"
    assert row.car_model == "张" * 64


def test_a_time_with_a_zone_is_kept_and_naive_times_are_the_dealers(tmp_path: Path) -> None:
    path = tmp_path / "z.csv"
    path.write_text(
        "手机号,线索创建时间,分配时间\n13812340001,2026-11-05T14:03:22+00:00,2026-11-05 22:03:22\n",
        encoding="utf-8",
    )
    (row,), _ = read_leads(path)
    assert row.created_at == row.assigned_at == datetime(2026, 11, 5, 14, 3, 22, tzinfo=UTC)


def test_owner_files_read_handles_plates_vins_and_dates() -> None:
    owners, rejected = read_owners(FIXTURES / "owners.xlsx")
    first, second, qq_only, wechat_only = owners
    assert (first.phone, first.qq_id, first.wechat) == ("13812340201", "123456789", "fengjun_88")
    assert (first.plate, first.vin, first.purchased_on) == (
        "京A12345",
        "LVGBE40K8NP000001",
        date(2025, 6, 18),
    )
    assert (second.phone, second.plate, second.vin) == (
        "13912340202",
        "粤B6789X",
        "LVGBE40K8NP000002",
    )
    assert second.purchased_on == date(2024, 3, 5)
    assert (qq_only.phone, qq_only.qq_id, qq_only.purchased_on) == (
        None,
        "987654321",
        date(2023, 10, 1),
    )
    assert (wechat_only.wechat, wechat_only.car_model) == ("hanmei_wx", "卡罗拉")
    assert {r.line: r.reason for r in rejected} == {
        6: "车架号应为17位字母或数字：LVGBE40K8NP0003",
        7: "没有手机号、QQ号或微信号",
    }


def test_owner_csv_rejections_name_the_column_and_value() -> None:
    owners, rejected = read_owners(FIXTURES / "owners.csv")
    assert [(o.name, o.phone, o.purchased_on) for o in owners] == [
        ("唐宁", "18612340301", date(2025, 1, 20))
    ]
    assert {r.line: r.reason for r in rejected} == {
        3: "电话无效：12345",
        4: "QQ无效：10001x",
        5: "购车日期晚于现在：2030-01-01",
    }


def test_errors_file_round_trips_with_reasons_and_no_formulas(tmp_path: Path) -> None:
    source = tmp_path / "bad_rows.csv"
    source.write_bytes((FIXTURES / "bad_rows.csv").read_bytes())
    with open_lead_file(source, config=CONFIG, tz=SHANGHAI, now=NOW) as f:
        header = f.header_cells
        rejected = [r for r in f.rows() if isinstance(r, RejectedRow)]
    out = errors_path_for(source)
    assert out == tmp_path / "bad_rows.errors.xlsx"
    assert write_errors(out, header, iter(rejected)) == 7

    sheet = load_workbook(out).worksheets[0]
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0] == ["行号", "原因", *header]
    assert [(row[0], row[1]) for row in table[1:]] == [(r.line, r.reason) for r in rejected]
    formula_row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == 11)
    assert formula_row[2].value == "=1+2"  # kept as typed, as text
    assert formula_row[2].data_type == "s" and formula_row[9].data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)

    # Fixed and imported again: 行号 and 原因 are ours, not unknown headers.
    with open_lead_file(out, config=CONFIG, tz=SHANGHAI, now=NOW) as again:
        assert again.headers.unknown == ("备注",)
        reasons = [r.reason for r in again.rows() if isinstance(r, RejectedRow)]
    assert reasons == [r.reason for r in rejected]


def test_a_bad_config_names_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "imports.toml").write_text(
        '[leads.headers]\nphone = ["手机号"]\nname = ["手机号"]\n[owners.headers]\nphone = ["电话"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match="手机号.*names both phone and name"):
        load_imports_config()
    (tmp_path / "imports.toml").write_text(
        '[leads.headers]\nphone = ["手机号"]\nphon = ["x"]\n[owners.headers]\nphone = ["电话"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"leads\.headers\.phon"):
        load_imports_config()


def test_the_dealer_can_add_a_synonym_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (FIXTURES.parents[2] / "config" / "imports.toml").read_text(encoding="utf-8")
    (tmp_path / "imports.toml").write_text(
        text.replace('phone = [\n    "phone",', 'phone = [\n    "客户手机号码", "phone",', 1),
        encoding="utf-8",
    )
    monkeypatch.setenv("DESK_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "x.csv"
    path.write_text("客户手机号码\n13812340001\n", encoding="utf-8")
    with open_lead_file(path, config=load_imports_config(), tz=SHANGHAI, now=NOW) as f:
        assert [r.phone for r in f.rows() if isinstance(r, LeadRow)] == ["13812340001"]


def _large_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["线索唯一ID", "手机号", "姓名", "所在城市", "首触意向车型", "线索创建时间", "战败原因"]
        )
        for i in range(rows):
            writer.writerow([
                f"OEM{i:08d}", f"138{i:08d}", f"客户{i}", "北京市朝阳区", "汉兰达 2026款 双擎四驱",
                "2026-11-05 14:03:22", "价格原因，客户觉得优惠不够，考虑一下再说" * 2,
            ])  # fmt: skip


def test_a_large_csv_streams_without_holding_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "large.csv"
    count = 30_000
    _large_csv(path, count)
    size = path.stat().st_size
    read_leads(FIXTURES / "oem.xlsx")  # lazy module state (phone metadata…) loaded before
    gc.collect()
    tracemalloc.start()
    try:
        seen = 0
        with open_lead_file(path, source="oem", config=CONFIG, tz=SHANGHAI, now=NOW) as f:
            expected = f.expected_rows
            for row in f.rows():
                seen += isinstance(row, LeadRow)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    assert expected is not None and abs(expected - count) < count * 0.05
    # Holding the rows would take more than the file's size; streamed, a fraction.
    assert peak < size / 4, (peak, size)


def test_a_large_xlsx_streams_without_holding_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "large.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["手机号", "姓名", "线索创建时间"])
    count = 20_000
    for i in range(count):
        # Numbers and few distinct texts: an .xlsx keeps its texts in one shared
        # table that openpyxl loads whole (the format's, not the reader's, memory).
        sheet.append([13900000000 + i, f"客户{i % 50}", datetime(2026, 11, 5, 14, 3)])
    book.save(path)
    del book, sheet
    read_leads(FIXTURES / "oem.xlsx")  # lazy module state loaded before measuring

    def peak_of(keep: bool) -> tuple[int, int]:
        gc.collect()
        tracemalloc.start()
        try:
            with open_lead_file(path, config=CONFIG, tz=SHANGHAI, now=NOW) as f:
                rows = f.rows()
                seen = len(list(rows)) if keep else sum(1 for _ in rows)
            return seen, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    seen, streamed = peak_of(keep=False)
    _, held = peak_of(keep=True)
    assert seen == count
    # openpyxl's read-only parser keeps ~80 bytes per row read (cleared XML
    # elements); a row held costs several times that.
    assert streamed < held / 3, (streamed, held)


def test_an_xlsx_without_a_stated_size_gets_an_estimated_row_count(tmp_path: Path) -> None:
    path = tmp_path / "unsized.xlsx"
    book = Workbook(write_only=True)  # writes no <dimension>
    sheet = book.create_sheet()
    sheet.append(["手机号"])
    for i in range(3000):
        sheet.append([13900000000 + i])
    book.save(path)
    with open_lead_file(path, config=CONFIG, tz=SHANGHAI, now=NOW) as f:
        assert f.expected_rows is not None and abs(f.expected_rows - 3000) < 150
        assert sum(1 for _ in f.rows()) == 3000


def test_the_kind_of_file_is_told_by_its_bytes_and_a_cut_xlsx_is_refused(tmp_path: Path) -> None:
    named_csv = tmp_path / "export.csv"  # an .xlsx saved under the wrong name
    named_csv.write_bytes((FIXTURES / "oem.xlsx").read_bytes())
    rows, rejected = read_leads(named_csv, "oem")
    assert len(rows) == 3 and not rejected
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes((FIXTURES / "oem.xlsx").read_bytes()[:2000])
    with pytest.raises(ImportFileError, match="xlsx"):
        read_leads(cut)
