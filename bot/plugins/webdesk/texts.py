"""The web desk's chat words: `登录` sends a one-time link, `退出登录` ends sessions."""

USAGE = {
    "登录": "登录 —— 私聊获取网页线索台的一次性登录链接",
    "退出登录": "退出登录 —— 结束你在网页线索台的所有登录",
}
DM_ONLY = "为了安全，请私聊我发送「{word}」。"
NOT_ON_ROSTER = "网页线索台只对顾问名单里的员工开放：请经理把你加入名单（config/roster.toml 或「添加顾问」）后再试。"
LINK = "线索台登录链接（{minutes} 分钟内有效，只能用一次，请勿转发）：\n{url}"
LOGGED_OUT = "已结束你在网页线索台的 {count} 个登录。"
NONE_LOGGED_IN = "你在网页线索台没有登录中的会话。"

PLUGIN_NAME = "网页线索台"
PLUGIN_DESCRIPTION = "私聊「登录」获取网页线索台的一次性链接"
