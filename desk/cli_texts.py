"""The words of `python -m desk` (desk.cli): help, reports and refusals, in one
place so reviewers read them together. The operators are the dealer's IT staff."""

from __future__ import annotations

PROG = "python -m desk"
DESCRIPTION = (
    "线索台命令行：导入平台线索和老车主，导出线索。与机器人使用同一个数据库和配置（.env、DESK_*）。"
)
COMMANDS = "命令"
IMPORT_HELP = "导入文件（.xlsx 或 .csv，UTF-8/GBK）"
IMPORT_WHAT = "导入的内容"
IMPORT_LEADS_HELP = "导入平台导出的线索（汽车之家、易车、懂车帝、厂家、抖音……）"
IMPORT_OWNERS_HELP = "导入已有车主（老客户）：他们不再被当作新线索"
FILE_HELP = "要导入的文件（.xlsx 或 .csv）"
SOURCE_HELP = "线索来源平台：autohome 汽车之家、yiche 易车、dongchedi 懂车帝、oem 厂家、douyin 抖音、other 其他（默认）"
DRY_RUN_HELP = "只预览：显示每行会怎样处理，不改动数据库"
EXPORT_HELP = "导出为 .xlsx"
EXPORT_WHAT = "导出的内容"
EXPORT_LEADS_HELP = "导出线索（筛选条件同 线索统计 / 线索列表）"
OUT_HELP = "导出到的文件（.xlsx）"
PERIOD_HELP = "按创建时间：today 今日、week 本周、month 本月、quarter 本季、year 本年"
FROM_HELP = "创建日期从（含），如 2026-11-01"
TO_HELP = "创建日期到（含），如 2026-11-30"
CHANNEL_HELP = "渠道（代码或名称，如 autohome 或 汽车之家）"
CONSULTANT_HELP = "顾问姓名（花名册中的名字）"
STAGE_HELP = "阶段（代码或名称，如 following 或 跟进中）"
LEVEL_HELP = "级别：N/H/A/B/C/O/F"
NO_PHONES_HELP = "不导出手机号"

# -- refusals (exit code 1) ------------------------------------------------------
ERROR = "错误：{message}"
USAGE_ERROR = "参数不对：{message}"
NO_FILE = "找不到文件：{path}"
CANNOT_READ = "无法读取文件 {path}：{reason}"
CONFIG_ERROR = "配置有误，请检查 .env 和 config/：\n{message}"
DATABASE_ERROR = "无法打开数据库（DESK_DATABASE_URL）：{reason}"
INTERRUPTED = "已中断。已写入的批次保留；再次导入同一文件会接着完成，不会重复。"
NOT_XLSX = "导出文件名要以 .xlsx 结尾：{path}"
NO_FOLDER = "目录不存在：{path}"
BAD_DATE = "日期要写成 2026-11-01 这样：{value}"
FROM_AFTER_TO = "开始日期晚于结束日期"
PERIOD_AND_DATES = "--period 和 --from/--to 只能用一种"
UNKNOWN_STAGE = "没有这个阶段：{value}（可用：{choices}）"
UNKNOWN_CONSULTANT = "花名册里没有叫 {name} 的顾问"
AMBIGUOUS_CONSULTANT = "花名册里有多个叫 {name} 的成员，请先在花名册里区分"

# -- the import's report ---------------------------------------------------------
HEADER_TITLE = "表头识别（{path}）："
HEADER_MAPPED = "  {header} → {field}"
HEADER_UNKNOWN = (
    "!! 未识别的表头（这些列不会导入；如是同义词，请加到 config/imports.toml）：{headers}"
)
HEADER_MISSING = "文件中没有：{fields}"
DRY_RUN_TITLE = "【预览，未改动数据库】前 {n} 行的处理结果："
PREVIEW_ROW = "  第 {line} 行  {outcome}  {who}{reason}"
SUMMARY_TITLE = "【预览结果】共 {rows} 行："
SUMMARY_DONE_TITLE = "【导入完成】共 {rows} 行："
COUNT = "  {outcome}：{n}"
REJECTED_TITLE = "被拒绝的行（前 {n} 行）："
REJECTED_ROW = "  第 {line} 行：{reason}"
ERRORS_FILE = "被拒绝的行已写入：{path}（改好后可直接再导入）"
PER_CONSULTANT_DRY = "各顾问将分到的线索（预览，未分配、未通知）："
PER_CONSULTANT_TITLE = "各顾问的线索（导入后每人收到一条汇总私信）："
PER_CONSULTANT = "  {name}：新线索 {new}，合并 {merged}"
UNASSIGNED = "  未分配（没有可接的顾问）：{n}"
NOTHING_CHANGED = "没有任何改动。"

OUTCOMES = {
    "created": "新建",
    "merged": "合并到已有线索",
    "unchanged": "无变化（已导入过）",
    "duplicate": "文件内重复",
    "rejected": "拒绝",
}

# The fields a header can feed (config/imports.toml: [leads.headers], [owners.headers]).
FIELD_NAMES = {
    "phone": "手机号", "platform_id": "平台线索ID", "name": "姓名", "city": "城市",
    "car_model": "意向车型", "created_at": "线索创建时间", "channel_path": "渠道（一/二/三级）",
    "inquiry": "询价类型", "level": "线索评级", "consultant_name": "顾问",
    "assigned_at": "分配时间", "first_contact_at": "首触时间", "visited_at": "到店时间",
    "test_drive_at": "试驾时间", "defeat_reason": "战败原因",
    "qq_id": "QQ号", "wechat": "微信号", "plate": "车牌", "vin": "车架号", "purchased_on": "购车日期",
}  # fmt: skip

# -- the export --------------------------------------------------------------------
EXPORTED = "已导出 {n} 条线索到 {path}{phones}"
WITH_PHONES = "（含手机号，请妥善保管）"
WITHOUT_PHONES = "（不含手机号）"
