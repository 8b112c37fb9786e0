"""Every user-facing string of the referral plugin (荐友购车), in one place to review,
and the small functions that turn the use cases' results (features/referral) into
replies. `WORDING` is what the use cases write to the desk (lead notes, the
referrer's DMs)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from desk import mask_phone
from features.referral.config import ReferralConfig
from features.referral.errors import (
    InvalidReferral,
    ReferralError,
    ReferralRefused,
    RewardAlreadyFulfilled,
    RewardCancelled,
    RewardNotFound,
)
from features.referral.ledger import LedgerEntry
from features.referral.people import Friend, split_handle
from features.referral.reports import FOLLOWING, LOST, VISITED, VOID, WON, Leaderboard, MyReferrals

PLUGIN_NAME = "荐友购车"
PLUGIN_DESCRIPTION = "推荐亲友购车：到店得积分，成交得奖励"

# -- command lines (帮助 and usage) ---------------------------------------------
USAGE_REFER = (
    "推荐 <称呼> <手机号> [意向车型] —— 推荐亲友购车，顾问会尽快联系（建议私聊机器人发送）"
)
USAGE_CODE = "推荐码 —— 查看您的专属推荐码，好友报上推荐码即算您推荐"
USAGE_MINE = "我的推荐 —— 查看您推荐的好友进度和奖励"
USAGE_BOARD = "推荐榜 —— 本月和累计推荐排行"
USAGE_LEDGER = "奖励台账 [全部] | 奖励台账 发放 <编号> —— 查看待发放的推荐奖励、登记发放"
USAGE_PREFIX = "用法："
USAGE = {
    "推荐": USAGE_REFER,
    "推荐码": USAGE_CODE,
    "我的推荐": USAGE_MINE,
    "推荐榜": USAGE_BOARD,
    "奖励台账": USAGE_LEDGER,
}

# -- 推荐 --------------------------------------------------------------------
# Staff take no part in referrals (the WeCom app's users, consultants and managers).
STAFF_CANNOT_REFER = "工作人员不参与荐友活动，客户线索请直接录入线索台。"
BAD_PHONE = "手机号格式不对，请填写好友的 11 位手机号，例如：推荐 张先生 138xxxx5678 轩逸"
BAD_NAME = "称呼请用 1–20 个字，例如：张先生"
PHONE_IN_NAME = (
    "称呼和意向车型里不能写手机号，只填一个好友的手机号，例如：推荐 张先生 138xxxx5678 轩逸"
)
BAD_MODEL = "意向车型请用 1–30 个字，例如：轩逸"
NOT_RECORDED = "没能登记这条推荐，请检查称呼和意向车型后重试。"
SELF_REFERRAL = "不能推荐自己哦，请填写好友的手机号。"
ALREADY_KNOWN = "感谢推荐！这位朋友已在我们的客户名单中，无法重复推荐。"
REFERRED_DM = "感谢推荐！已登记：{name} {masked}，专属顾问会尽快联系。好友到店您可得 {points} 积分，成交可得{reward}。发送「我的推荐」查看进度。"
REFERRED_GROUP = "感谢推荐！已登记：{name} {masked}，专属顾问会尽快联系。发送「我的推荐」查看进度。\n为保护好友隐私，下次请私聊机器人发送推荐。"
LEAD_NOTE_REFER = "车主 {referrer}（{account}）推荐的好友{model}"
LEAD_NOTE_MODEL = "，意向车型：{model}"

# -- 推荐码 ------------------------------------------------------------------
STAFF_NO_CODE = "工作人员不参与荐友活动，没有推荐码。"
YOUR_CODE = (
    "您的专属推荐码：{code}\n"
    "好友可以这样使用（任选其一）：\n"
    "1. 私聊机器人发送推荐码 {code}\n"
    "2. 活动报名时在备注里写上 {code}\n"
    "3. 申请加入车主群时在验证信息里填写 {code}\n"
    "好友到店您可得 {points} 积分，成交可得{reward}。"
)

# On the Official Account: a friend sends the code to the account or scans the
# owner's WeCom QR (a contact way whose state is the code).
YOUR_CODE_WECHAT = (
    "您的专属推荐码：{code}\n好友可以这样使用（任选其一）：\n1. 关注本公众号，发送推荐码 {code}"
)
CODE_QR = "2. 微信扫描您的专属二维码，添加我们的顾问企业微信：\n{qr}"
CODE_REWARDS = "好友到店您可得 {points} 积分，成交可得{reward}。"
CODE_NO_WECOM = "（本店暂未开通企业微信二维码，好友发送推荐码即可。）"
CODE_QR_LATER = "（专属二维码暂时没能生成，请稍后再发送「推荐码」获取。）"
CONTACT_WAY_REMARK = "推荐码 {code}"

# -- a friend quotes a code ------------------------------------------------------
CODE_THANKS_DM = "欢迎！已记下您是{referrer}推荐的朋友，专属顾问会尽快联系您。"
CODE_THANKS_GROUP = "欢迎！已记下您是{referrer}推荐的朋友，顾问会私信联系您。"
CODE_ALREADY_KNOWN_DM = "感谢！您已在我们的客户名单中，顾问会继续为您服务。"
CODE_OWN_DM = "这是您自己的推荐码，请发给想买车的亲友使用哦。"
LEAD_NOTE_CODE = "报了 {referrer} 的推荐码 {code}"
LEAD_NOTE_INVITE = "车主（{account}）邀请进群的好友"
AN_OWNER = "老车主"

# -- rewards (DMs to the referrer) ---------------------------------------------------
DM_VISITED = "好消息！您推荐的好友 {friend} 已到店，{points} 积分已到账。"
DM_WON = "恭喜！您推荐的好友 {friend} 已成交，您将获得{reward}，工作人员会联系您发放。"
DM_FULFILLED = "您推荐 {friend} 的奖励「{reward}」已发放，感谢您的支持！"

# -- 我的推荐 --------------------------------------------------------------------
MINE_NONE = (
    "您还没有推荐记录。发送「推荐码」获取您的专属推荐码，或发送：推荐 <称呼> <手机号> [意向车型]"
)
MINE_HEADER = "您的推荐（共 {count} 位有效，推荐积分 {points}）："
MINE_LINE = "{n}. {friend} · {status}{extra}"
MINE_POINTS = " · +{points}积分"
MINE_REWARD = " · 奖励：{reward}（{state}）"
MINE_MORE = "……另有 {more} 条较早的记录"
STATUS = {FOLLOWING: "跟进中", VISITED: "已到店", WON: "已成交", LOST: "未成交", VOID: "已失效"}
REWARD_STATES = {"pending": "待发放", "fulfilled": "已发放", "cancelled": "已取消"}
FRIEND_QQ = "QQ好友 {masked}"
FRIEND_UNKNOWN = "好友"
FRIEND_ON = {"wechat": "微信好友", "wecom": "企业微信好友"}  # by handle prefix
WECHAT_OWNER = "微信车主·{tail}"
# The account behind a handle, for staff (lead notes, 奖励台账).
ACCOUNT = {"qq": "QQ {id}", "wechat": "微信 {id}", "wecom": "企业微信客户 {id}"}

# -- 推荐榜 ----------------------------------------------------------------------
BOARD_HEADER_MONTH = "【本月推荐榜】"
BOARD_HEADER_ALL = "【累计推荐榜】"
BOARD_LINE = "{n}. {name} —— 推荐 {count} 位{deals}"
BOARD_DEALS = "，成交 {deals} 位"
BOARD_EMPTY = "暂无推荐，快来做第一个吧！"
BOARD_FOOTER = "按有效推荐人数排名，人数相同时成交多者在前。"

# -- 奖励台账 --------------------------------------------------------------------
LEDGER_HEADER_PENDING = "待发放的推荐奖励（{count} 条）："
LEDGER_HEADER_ALL = "推荐奖励台账（最近 {count} 条，待发放在前）："
LEDGER_EMPTY_PENDING = "没有待发放的推荐奖励。发送「奖励台账 全部」查看全部记录。"
LEDGER_EMPTY_ALL = "还没有推荐奖励记录。"
LEDGER_LINE = "#{id} {state} · 推荐人 {referrer} · 好友 {friend} · {reward} · {date}"
LEDGER_DONE_BY = "（{by} {date} 发放）"
LEDGER_FOOTER = "发放后请发送：奖励台账 发放 <编号>"
LEDGER_FULFILLED = "已登记发放：#{id} {reward}（推荐人 {referrer}）。已私信通知推荐人。"
LEDGER_ALREADY = "#{id} 已于 {date} 由 {by} 登记发放，无需重复登记。"
LEDGER_CANCELLED = "#{id} 已取消（推荐已失效），不能发放。"
# Who handed a reward out, when they are not on the roster (SUPERUSERS).
BY_ACCOUNT = {"qq": "QQ {id}", "wecom": "企业微信 {id}", "wechat_oa": "微信 {id}"}
LEDGER_NOT_FOUND = "没有找到编号为 {id} 的推荐奖励。"


def usage(word: str) -> str:
    return USAGE_PREFIX + USAGE[word]


# -- people ---------------------------------------------------------------------------


def mask_qq(qq: str) -> str:
    return f"{qq[:2]}****{qq[-2:]}" if len(qq) >= 5 else "****"


def account_label(handle: str) -> str:
    """The account behind a handle, for staff (a lead note, the reward ledger)."""
    parts = split_handle(handle)
    if parts is None:
        return handle
    return ACCOUNT[parts[0]].format(id=parts[1])


def friend_label(friend: Friend) -> str:
    """Who the friend is, safe anywhere: a name and a masked phone or QQ, never a full number."""
    if friend.phone:
        return f"{friend.name or FRIEND_UNKNOWN} {mask_phone(friend.phone)}"
    if friend.name:
        return friend.name
    parts = split_handle(friend.handle) if friend.handle else None
    if parts is not None and parts[0] == "qq":
        return FRIEND_QQ.format(masked=mask_qq(parts[1]))
    if parts is not None:
        return FRIEND_ON[parts[0]]
    return FRIEND_UNKNOWN


def public_referrer_name(name: str | None, referrer: str) -> str:
    """A referrer for everyone to see (推荐榜): a name, else a masked account
    (bot.formatting.referrer_label is the staff view of a handle, unmasked)."""
    if name:
        return name
    parts = split_handle(referrer)
    if parts is not None and parts[0] == "qq":
        return FRIEND_QQ.format(masked=mask_qq(parts[1]))
    if parts is not None and parts[0] == "wechat":
        return WECHAT_OWNER.format(tail=parts[1][-4:])
    return AN_OWNER


def referrer_with_account(name: str | None, referrer: str) -> str:
    """Who to hand the reward to: the name and the account (managers only)."""
    account = account_label(referrer)
    return f"{name}（{account}）" if name else account


class Wording:
    """What the referral use cases write to the desk (features.referral.people.Wording)."""

    def lead_note_refer(self, referrer_name: str | None, referrer: str, car_model: str | None) -> str:  # fmt: skip
        model = LEAD_NOTE_MODEL.format(model=car_model) if car_model else ""
        return LEAD_NOTE_REFER.format(
            referrer=referrer_name or AN_OWNER, account=account_label(referrer), model=model
        )

    def lead_note_code(self, referrer_name: str | None, code: str) -> str:
        return LEAD_NOTE_CODE.format(referrer=referrer_name or AN_OWNER, code=code)

    def lead_note_invite(self, inviter: str) -> str:
        return LEAD_NOTE_INVITE.format(account=account_label(inviter))

    def account(self, handle: str) -> str:
        return account_label(handle)

    def visited_dm(self, friend: Friend, points: int) -> str:
        return DM_VISITED.format(friend=friend_label(friend), points=points)

    def won_dm(self, friend: Friend, reward: str) -> str:
        return DM_WON.format(friend=friend_label(friend), reward=reward)

    def fulfilled_dm(self, friend: Friend, reward: str) -> str:
        return DM_FULFILLED.format(friend=friend_label(friend), reward=reward)


WORDING = Wording()


# -- replies --------------------------------------------------------------------------

# InvalidReferral.field / ReferralRefused.reason -> the reply ("usage": the usage line)
REFER_REFUSALS = {
    "phone": BAD_PHONE,
    "name": BAD_NAME,
    "phone_in_name": PHONE_IN_NAME,
    "car_model": BAD_MODEL,
    "self": SELF_REFERRAL,
    "known": ALREADY_KNOWN,
    "not_recorded": NOT_RECORDED,
}


def refer_refused(error: InvalidReferral | ReferralRefused) -> str:
    why = error.field if isinstance(error, InvalidReferral) else error.reason
    return REFER_REFUSALS.get(why) or usage("推荐")


def referred(name: str, phone: str, config: ReferralConfig, *, in_group: bool) -> str:
    fields = {
        "name": name,
        "masked": mask_phone(phone),
        "points": config.visit_points,
        "reward": config.deal_reward,
    }
    return (REFERRED_GROUP if in_group else REFERRED_DM).format(**fields)


def your_code(code: str, config: ReferralConfig) -> str:
    """The 推荐码 answer on QQ: the code and where a friend quotes it."""
    return YOUR_CODE.format(code=code, points=config.visit_points, reward=config.deal_reward)


def your_code_wechat(code: str, qr: str | None, no_qr: str | None, config: ReferralConfig) -> str:
    """The 推荐码 answer on the Official Account: the code, the owner's WeCom QR when
    there is one, else `no_qr` (why there is none)."""
    fields = {"code": code, "points": config.visit_points}
    lines = [YOUR_CODE_WECHAT.format(**fields)]
    lines.append(CODE_QR.format(qr=qr) if qr else no_qr or "")
    lines.append(CODE_REWARDS.format(**fields, reward=config.deal_reward))
    return "\n".join(line for line in lines if line)


def my_referrals(mine: MyReferrals) -> str:
    if not mine.rows:
        return MINE_NONE
    lines = [MINE_HEADER.format(count=mine.valid, points=mine.points)]
    for n, row in enumerate(mine.rows, 1):
        extra = MINE_POINTS.format(points=row.points) if row.points else ""
        if row.reward is not None and row.reward_status is not None:
            state = REWARD_STATES.get(row.reward_status, row.reward_status)
            extra += MINE_REWARD.format(reward=row.reward, state=state)
        status = STATUS[row.progress]
        lines.append(MINE_LINE.format(n=n, friend=friend_label(row.friend), status=status, extra=extra))  # fmt: skip
    if mine.total > len(mine.rows):
        lines.append(MINE_MORE.format(more=mine.total - len(mine.rows)))
    return "\n".join(lines)


def leaderboard(board: Leaderboard) -> str:
    lines: list[str] = []
    for header, ranks in ((BOARD_HEADER_MONTH, board.month), (BOARD_HEADER_ALL, board.ever)):
        lines.append(header)
        if not ranks:
            lines.append(BOARD_EMPTY)
        for n, rank in enumerate(ranks, 1):
            lines.append(
                BOARD_LINE.format(
                    n=n,
                    name=public_referrer_name(rank.name, rank.referrer),
                    count=rank.count,
                    deals=BOARD_DEALS.format(deals=rank.deals) if rank.deals else "",
                )  # fmt: skip
            )
    lines.append(BOARD_FOOTER)
    return "\n".join(lines)


def day(at: datetime, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d")


def ledger(entries: list[LedgerEntry], tz: ZoneInfo, *, show_all: bool) -> str:
    if not entries:
        return LEDGER_EMPTY_ALL if show_all else LEDGER_EMPTY_PENDING
    header = LEDGER_HEADER_ALL if show_all else LEDGER_HEADER_PENDING
    lines = [header.format(count=len(entries))]
    for e in entries:
        line = LEDGER_LINE.format(
            id=e.id, state=REWARD_STATES.get(e.status, e.status),
            referrer=referrer_with_account(e.referrer_name, e.referrer),
            friend=friend_label(e.friend), reward=e.reward, date=day(e.created_at, tz),
        )  # fmt: skip
        if e.status == "fulfilled" and e.fulfilled_at is not None:
            line += LEDGER_DONE_BY.format(by=e.fulfilled_by or "", date=day(e.fulfilled_at, tz))
        lines.append(line)
    lines.append(LEDGER_FOOTER)
    return "\n".join(lines)


def fulfilled(entry: LedgerEntry) -> str:
    return LEDGER_FULFILLED.format(
        id=entry.id, reward=entry.reward,
        referrer=referrer_with_account(entry.referrer_name, entry.referrer),
    )  # fmt: skip


def not_fulfilled(error: ReferralError, tz: ZoneInfo) -> str:
    """RewardNotFound / RewardCancelled / RewardAlreadyFulfilled as the reply."""
    if isinstance(error, RewardAlreadyFulfilled):
        return LEDGER_ALREADY.format(id=error.reward_id, by=error.by, date=day(error.at, tz))
    if isinstance(error, RewardCancelled):
        return LEDGER_CANCELLED.format(id=error.reward_id)
    if isinstance(error, RewardNotFound):
        return LEDGER_NOT_FOUND.format(id=error.reward_id)
    raise error
