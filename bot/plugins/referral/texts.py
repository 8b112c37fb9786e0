"""Every user-facing string of the referral plugin (荐友购车), in one place to review."""

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

# -- 推荐 --------------------------------------------------------------------
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
STATUS_FOLLOWING = "跟进中"
STATUS_VISITED = "已到店"
STATUS_WON = "已成交"
STATUS_LOST = "未成交"
STATUS_VOID = "已失效"
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
LEDGER_MANAGERS_ONLY = "只有经理可以查看和发放推荐奖励。"
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
