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
