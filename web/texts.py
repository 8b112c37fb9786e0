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
# What a desk field is called where a refusal names it (InvalidInput.field).
FIELD_NAMES = {
    "result": "跟进结果", "note": "备注", "level": "级别", "next_at": "下次跟进时间",
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
BAD_TIME = "时间格式不对，请用日期时间选择框。"
NEXT_DUE = "下次跟进 {due}"
DONE_FLASH = "#{lead_id} {done}"

# 线索
LEADS_TITLE = "线索"
BOARD_TITLE = "线索看板"
LIST_VIEW = "列表"
BOARD_VIEW = "看板"
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
