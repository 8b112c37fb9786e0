"""A plugin declaring one command per role, and entries that break the help convention."""

from nonebot.plugin import PluginMetadata

__plugin_meta__ = PluginMetadata(
    name="测试插件",
    description="help convention fixture",
    usage="",
    extra={
        "commands": [
            {"cmd": "签到", "desc": "每天签到", "role": "member", "where": "group"},
            {
                "cmd": "/今日任务",
                "desc": "今日任务 —— 查看今天的任务",
                "role": "consultant",
                "where": "private",
            },
            {"cmd": "线索统计", "desc": "线索统计 [本月]", "role": "manager"},
            {"cmd": "秘密", "desc": "不显示", "role": "member", "hidden": True},
            {"cmd": "坏角色", "desc": "role is wrong", "role": "boss"},
            "not a dict",
        ]
    },
)
