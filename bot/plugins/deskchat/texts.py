"""Every reply of the desk-in-chat plugin, in one place for review."""

from __future__ import annotations

from bot.commands import MAX_COMMAND_TEXT

USAGE = {
    "今日": "今日 —— 查看今天的任务",
    "线索": "线索 <号> —— 例：线索 12",
    "跟进": "跟进 <号> <结果> [下次 <时间>] [级别 H/A/B/C] [购车 <时间>] —— 例：跟进 12 客户在比价 下次 周六上午10点 级别 A",
    "邀约": "邀约 <号> <到店时间> —— 例：邀约 12 周六上午10点",
    "确认": "确认 <号> —— 客户确认明天到店",
    "到店": "到店 <号> [结果] [下次 <时间>] [级别 H/A/B/C]",
    "未到店": "未到店 <号>",
    "下订": "下订 <号> [备注]",
    "成交": "成交 <号> [备注]",
    "战败": "战败 <号> <原因> —— 例：战败 12 竞品 买了别家",
    "上班": "上班 —— 开始接新线索",
    "下班": "下班 —— 暂停接新线索",
    "线索统计": "线索统计 [今日|本周|本月|本季|本年]",
    "审核": "审核 <号> 同意 [回访 <时间>] 或 审核 <号> 驳回",
    "分配": "分配 <号> <顾问姓名、QQ号或企微账号>",
    "添加顾问": "添加顾问 <QQ号> <姓名>",
    "顾问列表": "顾问列表",
    "待分配": "待分配 —— 没有顾问接手的线索",
}

USAGE_PREFIX = "用法："
NOT_STAFF = "这个命令仅限本店顾问使用，如需帮助请联系销售经理。"
NOT_MANAGER = "这个命令仅限销售经理使用。"
DM_ONLY = "客户信息请私聊我查看，群里不展示。"
STAFF_LIST_DM_ONLY = "顾问名单请私聊我查看，群里不展示。"
LEAD_LIST_DM_ONLY = "待分配线索请私聊我查看，群里不展示。"
BAD_LEAD_NO = "线索号不对，应为数字，例如 12 或 #12。"
BAD_TIME = "没看懂时间「{text}」，可以写成：明天下午3点、周六上午10点、3天后、12月1号 14:00。"
BAD_LEVEL = "级别只能是 H、A、B、C。"
NAME_TOO_LONG = "名字太长了，最多 {limit} 个字。"
TOO_LONG = f"内容太长了：一条命令连同备注最多 {MAX_COMMAND_TEXT} 字，请精简后再发。"
LEAD_NOT_FOUND = "没有找到线索 #{lead_id}。"
FORBIDDEN_GENERIC = "没有权限：{message}"
MEMBER_NOT_FOUND = "没有找到顾问「{name}」，发送「顾问列表」查看。"
DUPLICATE_MEMBER = "这个QQ号已经在顾问名单里了。"
INVALID = "输入有误：{message}"
TRANSITION = "#{lead_id} 当前是「{stage}」，不能{action}。"
ACTION_NAMES = {
    "follow_up": "记录跟进", "set_level": "改级别", "invite": "邀约", "confirm": "确认到店", "visit": "记录到店",
    "no_show": "记为未到店", "order": "记为下订", "deal": "记为成交", "request_defeat": "申请战败",
    "review_defeat": "审核战败",
}  # fmt: skip

FOLLOWED = "已记录 #{lead_id} 跟进。级别 {level}，下次 {due}"
INVITED = "已邀约 #{lead_id} 于 {visit} 到店，{confirm} 提醒您确认。"
CONFIRMED = "已确认 #{lead_id}，{visit} 到店。"
VISITED = "已记录 #{lead_id} 第 {count} 次到店。下次跟进 {due}"
NO_SHOW = "已记录 #{lead_id} 未到店，{due} 再跟进。"
ORDERED = "已记录 #{lead_id} 下订 🎉 每周跟进至提车，下次 {due}"
WON = "已记录 #{lead_id} 成交 🎉"
DEFEAT_REQUESTED = "已提交 #{lead_id} 战败申请（{category}），等待经理审核。"
APPROVED = "已批准 #{lead_id} 战败，{due} 回访。"
REJECTED = "已驳回 #{lead_id} 战败，顾问将于 {due} 继续跟进。"
ASSIGNED = "已把 #{lead_id} 分配给 {name}。"
ON_DUTY = "已上班，新线索会分给您。"
OFF_DUTY = "已下班，暂停给您分配新线索。"
MEMBER_ADDED = "已添加顾问 {name}（QQ {qq}），默认在班。"
NO_MEMBERS = "顾问名单是空的，发送「添加顾问 <QQ号> <姓名>」添加。"
NO_UNASSIGNED = "没有待分配的线索。"
TODAY_EMPTY = "今天没有到期任务 👍"
