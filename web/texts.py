"""Every Chinese word of the web desk's frame (pages keep theirs in their templates
or here, one section per page)."""

from __future__ import annotations

from desk.access import LoginRefused
from desk.cli_texts import FIELD_NAMES as IMPORT_FIELD_NAMES

TITLE = "线索台"

# (page name, path under /desk, label, manager only)
NAV = (
    ("home", "/", "工作台", False),
    ("leads", "/leads", "线索", False),
    ("defeats", "/defeats", "战败审核", True),
    ("reports", "/reports", "报表", False),
    ("events", "/events", "活动", False),
    ("referrals", "/referrals", "荐友", False),
    ("roster", "/roster", "顾问", True),
    ("imports", "/imports", "导入", True),
)

ROLE_NAMES = {"manager": "经理", "consultant": "顾问"}

LOGIN_TITLE = "登录线索台"
LOGIN_PROMPT = "点击下方按钮进入线索台。此链接只能使用一次。"
LOGIN_BUTTON = "进入线索台"
LOGIN_NEEDED_TITLE = "请先登录"
LOGIN_NEEDED = "请在 QQ 或企业微信里私聊机器人发送「登录」，打开收到的链接。"
LOGIN_AGAIN = "请在私聊中重新发送「登录」获取新链接。"
LOGIN_REFUSED = {
    LoginRefused.Reason.UNKNOWN: "登录链接无效。",
    LoginRefused.Reason.USED: "这个登录链接已经用过了。",
    LoginRefused.Reason.EXPIRED: "登录链接已过期。",
    LoginRefused.Reason.INACTIVE: "你的账号已停用，请联系经理。",
}
LOGIN_THROTTLED = "尝试次数太多，请一分钟后再试。"
LOGGED_OUT_TITLE = "已退出"
LOGGED_OUT = "你已退出线索台。"
LOGOUT = "退出"

CSRF_REFUSED = "页面已过期，请刷新后重试。"
FORBIDDEN = "没有权限查看或操作。"
MANAGER_ONLY = "只有经理可以使用此页面。"
NOT_FOUND = "找不到这条记录（或它不属于你）。"
BAD_INPUT = "输入有误：{message}"
BAD_FIELD = "{field}填写有误：{message}"
# What a desk field is called where a refusal names it (InvalidInput.field).
FIELD_NAMES = {
    "result": "跟进结果", "note": "备注", "level": "级别", "next_at": "下次跟进时间", "revisit_at": "回访时间",
    "purchase_at": "预计购车时间", "expected_purchase_at": "预计购车时间", "visit_at": "到店时间",
    "reason": "战败原因", "name": "姓名", "car_model": "意向车型", "budget": "预算", "phone": "手机号",
    "query": "搜索", "stage": "阶段", "reached": "阶段", "period": "时间段", "member_id": "顾问",
}  # fmt: skip
CONFLICT = "当前状态不能这样操作：{stage}的线索不能{action}。"
BUSY = "系统繁忙，请稍后再试。"
ERROR_TITLE = "无法完成"
BACK = "返回"

# 工作台
HOME_TITLE = "工作台"
HOME_EMPTY = "今天没有待办，干得漂亮。"
TASK_SECTIONS = (
    ("first_contacts", "待首次联系"),
    ("overdue", "已逾期"),
    ("follow_ups", "今日待跟进"),
    ("visits_to_confirm", "待确认到店"),
    ("visits_today", "今日到店"),
    ("revisits", "战败回访"),
)

# 工作台 and the lead detail: the steps on a lead (web.pages.steps)
STEP_LABELS = {
    "follow_up": "记录跟进", "invite": "邀约", "confirm": "确认", "visit": "到店", "no_show": "未到店",
    "order": "下订", "deal": "成交", "defeat": "申请战败",
}  # fmt: skip
STEP_DONE = {
    "follow_up": "已记录跟进", "invite": "已邀约", "confirm": "已确认到店", "visit": "已记录到店",
    "no_show": "已记录未到店", "order": "已记录下订", "deal": "已记录成交",
    "defeat": "已提交战败申请，等待经理审核", "edit": "已保存修改", "assign": "已重新分配",
}  # fmt: skip
ACTIONS = "操作"
OPEN_STEPS = "跟进 / 邀约 / 战败…"
DETAIL = "详情"
RESULT = "跟进结果"
RESULT_HINT = "客户说了什么"
LEVEL = "级别"
LEVEL_KEEP = "不变"
NEXT_AT = "下次跟进"
PURCHASE_AT = "预计购车"
VISIT_AT = "到店时间"
NOTE = "备注"
DEFEAT_REASON = "战败原因"
DEFEAT_DETAIL = "补充说明"
CHOOSE = "请选择"
DEFEAT_REASON_NEEDED = "请从列表中选择战败原因。"
NEXT_DUE = "下次跟进 {due}"
DONE_FLASH = "#{lead_id} {done}"

# 线索
LEADS_TITLE = "线索"
BOARD_TITLE = "线索看板"
LIST_VIEW = "列表"
BOARD_VIEW = "看板"
# 导出: the list's current filters (the search box aside); phones for managers only.
LEADS_EXPORT = "导出 Excel"
LEADS_EXPORT_TITLE = "按当前筛选导出（经理含手机号，顾问只含自己的线索、不含手机号）"
LEADS_FILE = "线索"
ALL = "全部"
STAGE = "阶段"
CHANNEL = "渠道"
CONSULTANT = "顾问"
GROUP = "群"
PERIOD = "时间段"
FROM = "从"
TO = "到"
REACHED = "到达阶段"
OVERDUE = "只看逾期"
SEARCH = "搜索"
SEARCH_HINT = "姓名、手机号或 #编号"
FILTER = "筛选"
RESET = "清除"
UNASSIGNED = "未分配"
LEADS_EMPTY = "没有符合条件的线索。"
LEADS_TOTAL = "共 {total} 条"
LEADS_TOTAL_CAPPED = "超过 {total} 条"  # the desk stops counting there (LeadPage.capped)
PAGE = "第 {page} / {pages} 页"
PREV = "上一页"
NEXT = "下一页"
MORE_IN_COLUMN = "还有 {more} 条"
PERIODS = (("today", "今日"), ("week", "本周"), ("month", "本月"), ("quarter", "本季"), ("year", "本年"))
REACHED_NAMES = {
    "leads": "全部线索", "contacted": "首次联系", "invited": "邀约", "visited": "到店",
    "ordered": "下订", "won": "成交",
}  # fmt: skip
BAD_FILTER = "筛选条件不对：{what}"
BAD_DATE = "日期格式不对"
COLUMNS = {
    "ref": "编号", "name": "客户", "phone": "手机号", "stage": "阶段", "level": "级别",
    "channel": "渠道", "consultant": "顾问", "due": "下次跟进", "created": "创建时间",
}  # fmt: skip

# the lead detail
LEAD_TITLE = "线索 #{lead_id}"
CUSTOMER = "客户"
FIELDS = {
    "phone": "手机号", "stage": "阶段", "level": "级别", "channel": "渠道", "source": "来源",
    "group_id": "群", "car_model": "意向车型", "budget": "预算", "expected_purchase_at": "预计购车",
    "expected_visit_at": "预计到店", "next_follow_up_at": "下次跟进", "consultant": "顾问",
    "created_at": "创建时间", "first_contacted_at": "首次联系", "visit_count": "到店次数",
    "defeat_reason": "战败原因", "referrer": "推荐人", "first_message": "首条消息",
}  # fmt: skip
EDIT = "修改资料"
SAVE = "保存"
ASSIGN = "重新分配"
ASSIGN_TO = "分配给"
TIMELINE = "跟进记录"
TIMELINE_COLUMNS = ("时间", "操作人", "操作", "变化", "备注")
SYSTEM_ACTOR = "系统"
# The timeline's changes worth a line, in this order (old → new).
CHANGE_NAMES = {
    "stage": "阶段", "level": "级别", "consultant_id": "顾问", "next_follow_up_at": "下次跟进",
    "expected_visit_at": "预计到店", "expected_purchase_at": "预计购车", "name": "姓名",
    "car_model": "意向车型", "budget": "预算", "phone": "手机号", "defeat_reason": "战败原因",
    "visit_count": "到店次数",
}  # fmt: skip

# 报表
REPORTS_TITLE = "报表"
REPORT_PERIODS = (
    ("today", "今日"),
    ("week", "本周"),
    ("month", "本月"),
    ("quarter", "本季"),
    ("year", "本年"),
)
REPORT_DIMENSIONS = (("channel", "渠道"), ("consultant", "顾问"), ("group", "群"))
REPORT_FROM = "从"
REPORT_TO = "到"
REPORT_BY = "分组"
REPORT_PERIOD = "时间段"
REPORT_SHOW = "查看"
REPORT_EXPORT = "导出 Excel"
REPORT_OWN_ONLY = "只显示你自己的线索数据。"
REPORT_MEDIANS_MONTH_ONLY = "中位数只对一个月以内的时间段计算，更长的时间段只显示平均值。"
REPORT_BAD_DATE = "日期格式应为 2026-11-30。"
REPORT_BAD_RANGE = "请同时填写开始和结束日期。"
REPORT_NONE = "（无）"
REPORT_ALL = "全部"
REPORT_FILE = "报表"
FUNNEL_STAGE_NAMES = {
    "leads": "线索",
    "contacted": "首次联系",
    "invited": "邀约",
    "visited": "到店",
    "ordered": "下订",
    "won": "成交",
}
FUNNEL_BAR = "{stage}（流失 {drop}）"
# table titles and column headers (the page and the .xlsx share them)
T_FUNNEL = "销售漏斗"
H_FUNNEL = ("阶段", "数量", "较上一阶段转化率", "流失率", "占线索")
T_BY = "按{dimension}"
H_BY = (
    "线索",
    "首次联系",
    "邀约",
    "到店",
    "下订",
    "成交",
    "邀约率",
    "到店率",
    "成交率",
    "平均首次响应（分钟）",
)
T_RANKING = "顾问排名"
H_RANKING = (
    "名次",
    "顾问",
    "新线索",
    "跟进",
    "邀约",
    "到店",
    "下订",
    "成交",
    "战败",
    "成交率（成交/(成交+战败)）",
)
T_TIMES = "响应与成交周期"
H_TIMES = (
    "顾问",
    "已联系线索",
    "平均首次响应（分钟）",
    "首次响应中位数（分钟）",
    "成交",
    "平均成交周期（天）",
    "成交周期中位数（天）",
)
T_DEFEAT_CATEGORIES = "战败原因（类别）"
H_DEFEAT_CATEGORIES = ("类别", "数量")
T_DEFEAT_REASONS = "战败原因（明细，前 10）"
H_DEFEAT_REASONS = ("类别", "原因", "数量")
T_DAILY = "日报（{day}）"
H_DAILY = ("项目", "数量")
DAILY_ITEMS = (
    ("new_leads", "新线索"),
    ("follow_ups_done", "已跟进"),
    ("follow_up_target", "应跟进"),
    ("invitations", "邀约"),
    ("visits", "到店"),
    ("no_shows", "未到店"),
    ("orders", "下订"),
    ("deals", "成交"),
    ("defeat_requests_waiting", "待审核战败"),
    ("unassigned_leads", "未分配线索"),
)
T_GROUPS = "车主群活跃"
H_GROUPS = ("群", "入群人数", "退群人数", "发言人数", "消息数", "签到")
T_EVENTS = "活动与到场"
H_EVENTS = ("活动", "时间", "状态", "报名人数", "到场", "未到", "候补", "车主报名(组)", "新客户报名(组)", "新线索")
EVENT_STATUS_NAMES = {"open": "报名中", "closed": "已截止", "cancelled": "已取消"}
EVENTS_TOTAL = "合计（不含已取消）"
T_REFERRALS = "荐友与奖励"
H_REFERRALS = ("项目", "数量")
REFERRAL_ITEMS = (
    ("referrals", "新推荐"),
    ("valid", "有效推荐"),
    ("visits", "推荐到店"),
    ("deals", "推荐成交"),
    ("rewards_paid", "已发放奖励"),
    ("rewards_pending", "待发放奖励（当前）"),
)
T_REFERRERS = "推荐榜"
H_REFERRERS = ("推荐人", "有效推荐", "成交")
CHART_LEADS = "线索"
CHART_WON = "成交"
CHART_ORDERS = "下订"
CHART_DEFEATS = "战败"
CHART_MESSAGES = "消息数"
FEATURE_OFF = "这个功能没有启用。"
BAD_TIME = "时间格式不对，请用日期选择器选择。"
BAD_NUMBER = "编号不对。"

# 战败审核
DEFEATS_TITLE = "战败审核"
DEFEATS_EMPTY = "没有待审核的战败申请。"
DEFEAT_COLUMNS = ("客户", "顾问", "原因", "分类", "申请时间")
DEFEAT_UNASSIGNED = "未分配"
DEFEAT_REVISIT = "回访日期（不填则按默认）"
DEFEAT_NOTE = "备注"
DEFEAT_REJECT_NOTE = "驳回说明"
DEFEAT_APPROVE = "批准战败"
DEFEAT_REJECT = "驳回"
DEFEAT_APPROVED = "已批准 #{lead_id} 战败，{due} 回访。"
DEFEAT_REJECTED = "已驳回 #{lead_id} 战败，顾问将于 {due} 继续跟进。"

# 顾问
ROSTER_TITLE = "顾问"
ROSTER_COLUMNS = ("姓名", "角色", "QQ", "企业微信", "在班", "未结线索", "登录中")
ROSTER_CAP = (
    "分配上限：每位顾问最多 {cap} 条未结线索（desk.toml 的 assignment.cap_per_consultant）。"
)
ROSTER_NO_CAP = "分配上限：不限（desk.toml 的 assignment.cap_per_consultant 为 0）。"
ON_DUTY = "在班"
OFF_DUTY = "下班"
SET_ON_DUTY = "设为在班"
SET_OFF_DUTY = "设为下班"
END_SESSIONS = "结束登录"
ADD_MEMBER = "添加"
ADD_MEMBER_TITLE = "添加顾问"
MEMBER_NAME = "姓名"
MEMBER_QQ = "QQ号"
MEMBER_ROLE = "角色"
MEMBER_ADDED = "已添加 {name}（QQ {qq}）。"
MEMBER_ON_DUTY = "{name} 已设为在班，新线索会分给他/她。"
MEMBER_OFF_DUTY = "{name} 已设为下班，暂停分配新线索。"
SESSIONS_ENDED = "已结束 {name} 的 {count} 个登录。"
BAD_QQ = "QQ号应为 5–12 位数字，且不以 0 开头。"
BAD_NAME = "姓名请填写 1–32 个字。"
DUPLICATE_MEMBER = "这个QQ号已经在顾问名单里了。"
BAD_ROLE = "角色只能是经理或顾问。"

# 荐友
REFERRALS_TITLE = "荐友"
REFERRALS_PENDING = "待发放"
REFERRALS_ALL = "全部记录"
REFERRALS_EMPTY = "没有推荐奖励记录。"
REFERRAL_COLUMNS = ("编号", "状态", "推荐人", "好友", "奖励", "登记时间", "发放")
FULFIL = "标记已发放"
FULFILLED = "已登记发放 #{id}，已私信通知推荐人。"
FULFILLED_BY = "{by} {date}"

# 活动
EVENTS_TITLE = "活动"
EVENTS_EMPTY = "还没有发起过活动。"
EVENTS_UPCOMING = "未开始"
EVENTS_PAST = "已开始 / 已结束"
EVENT_SUMMARY = "报名 {signed} 人，候补 {waiting} 组，到场 {attended} 人，新线索 {leads}"
EVENTS_SHOWN = 50
EVENT_PLACE = "地点：{place}"
EVENT_NO_SIGNUPS = "还没有人报名。"
MARK_ATTENDED = "登记到场"
EXPORT = "导出报名表（.xlsx）"
ATTEND_NOBODY = "请勾选到场的人。"
ATTENDED = "已登记到场 {count} 人。"
ATTEND_TICK = "到场"

# 导入
IMPORT_TITLE = "导入"
IMPORT_KIND = "导入内容"
IMPORT_KINDS = {"leads": "线索", "owners": "老车主"}
IMPORT_SOURCE = "线索来源（导入线索时）"
IMPORT_SOURCES = {
    "autohome": "汽车之家", "yiche": "易车", "dongchedi": "懂车帝", "oem": "主机厂", "douyin": "抖音",
    "other": "其他",
}  # fmt: skip
IMPORT_FILE = "文件（.xlsx 或 .csv，最大 {mb} MB）"
IMPORT_UPLOAD = "上传并预览"
IMPORT_HINT = (
    "上传后先预览（不写入任何数据），确认后才真正导入。同一时间只能进行一个导入；"
    "上传的文件在导入结束后删除，导入报告保留 3 小时。"
)
IMPORT_BAD_TYPE = "只支持 .xlsx 和 .csv 文件（.xls 请先在 Excel 里另存为 .xlsx）。"
IMPORT_EMPTY = "文件是空的。"
IMPORT_NO_FILE = "请选择要导入的文件。"
IMPORT_TOO_BIG = "文件太大：最大 {mb} MB。请拆成几个文件分别导入。"
IMPORT_NO_LENGTH = "无法确定文件大小，请用浏览器重新上传。"
IMPORT_BAD_KIND = "请选择导入线索还是老车主。"
IMPORT_BAD_SOURCE = "请选择线索来源。"
IMPORT_UNREADABLE = "无法读取这个文件：{reason}"
IMPORT_BROKEN = "文件已损坏，或不是有效的 Excel（.xlsx）/ CSV 文件。"
IMPORT_BUSY = "另一个导入正在进行（{name}），请等它完成后再试。同一时间只能进行一个导入。"
IMPORT_CRASHED = "导入中断了（系统错误，已记录日志）。已导入的行会保留；再次导入同一文件不会重复。"
IMPORT_GONE = "这个导入已结束或已过期，请重新上传。"
IMPORT_RECENT = "最近的导入"
IMPORT_STATES = {
    "previewing": "预览中", "previewed": "待确认", "running": "导入中", "done": "已完成",
    "failed": "失败",
}  # fmt: skip
IMPORT_JOB_TITLE = "导入：{name}"
IMPORT_PREVIEWING = "正在预览（不写入数据）…"
IMPORT_RUNNING = "正在导入…"
IMPORT_ROWS_DONE = "{done} / {expected} 行"
IMPORT_ROWS_DONE_OPEN = "已处理 {done} 行"
IMPORT_RELOAD = "刷新"
IMPORT_HEADERS = "表头"
IMPORT_HEADER_COLUMNS = ("文件中的列", "对应")
IMPORT_UNKNOWN = "未识别（不会导入）"
IMPORT_UNKNOWN_NOTE = "未识别的列：{headers}。可在 config/ 的表头同义词中添加。"
IMPORT_MISSING = "文件中没有的列："
IMPORT_PREVIEW_TITLE = "预览（尚未写入任何数据）"
IMPORT_OUTCOMES = {
    "created": "新建", "merged": "合并", "unchanged": "已导入过", "duplicate": "文件内重复",
    "rejected": "无法导入",
}  # fmt: skip
IMPORT_ROWS_TITLE = "前 {count} 行"
IMPORT_ROW_COLUMNS = ("行号", "结果", "姓名", "手机号", "说明")
IMPORT_CONFIRM = "确认导入"
IMPORT_CANCEL = "取消"
IMPORT_CANCELLED = "已取消，没有导入任何数据。"
IMPORT_REPORT_TITLE = "导入完成"
IMPORT_TOTAL = "共 {rows} 行"
IMPORT_PER_CONSULTANT = "分配给顾问的新线索"
IMPORT_PER_CONSULTANT_COLUMNS = ("顾问", "新线索")
IMPORT_SUMMARY_SENT = "每位顾问会收到一条汇总私信。"
IMPORT_UNASSIGNED = "{count} 条新线索未分配（在班顾问已达分配上限或无人在班），可在「线索」页筛选「未分配」后分配。"
IMPORT_ERRORS = "下载无法导入的行（.xlsx，含原因列，改好后可再次导入）"
IMPORT_ERRORS_FILE = "无法导入的行.xlsx"
IMPORT_FAILED = "导入失败"
IMPORT_AGAIN = "再导入一个文件"
IMPORT_TO_LEADS = "查看线索"
# What the file's columns feed (desk.imports.rows.LeadRow's fields, the owners' too).
# The fields a header can feed: the CLI's names (one list for both fronts).
IMPORT_FIELDS = IMPORT_FIELD_NAMES
