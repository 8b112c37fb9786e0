"""Every Chinese word of the web desk's frame (pages keep theirs in their templates
or here, one section per page)."""

from __future__ import annotations

from desk.access import LoginRefused

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
H_EVENTS = ("活动", "时间", "状态", "报名人数", "到场", "未到", "候补", "新线索")
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
