"""Every user-facing string of the owners plugin (车主), in one place to review."""

from __future__ import annotations

PLUGIN_NAME = "车主"
PLUGIN_DESCRIPTION = "经理把群成员设为车主：车主报名活动不再记为新线索"

USAGE = {
    "设为车主": "设为车主 @某人 [车型] | 设为车主 <QQ号> [车型] —— 把这位群成员记为本店车主",
    "取消车主": "取消车主 @某人 | 取消车主 <QQ号> —— 不再记为车主",
}
USAGE_PREFIX = "用法："

ONE_AT_A_TIME = "一次只能设置一位，请只 @ 一个人。"
NOT_SELF = "不能把机器人设为车主。"
MARKED = "✅ 已把 {who} 设为车主{model}。以后报名活动不再记为新线索。"
ALREADY = "ℹ️ {who} 已是车主{model}。"
MODEL = "（车型：{model}）"
UNMARKED = "✅ 已取消 {who} 的车主身份。"
NOT_AN_OWNER = "{who} 不是车主，无需取消。"
WHO_NAMED = "{name}（QQ {qq}）"
WHO_QQ = "QQ {qq}"
BAD_INPUT = "没有设置：{reason}"


def usage(word: str) -> str:
    return USAGE_PREFIX + USAGE[word]


def who(qq: str, name: str | None) -> str:
    return WHO_NAMED.format(name=name, qq=qq) if name else WHO_QQ.format(qq=qq)


def model(car_model: str | None) -> str:
    return MODEL.format(model=car_model) if car_model else ""
