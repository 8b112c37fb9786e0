"""Replies every plugin shares (Simplified Chinese): the refusal for a command
above the asker's role (bot.front), one line per role."""

from bot.roles import CONSULTANT, MANAGER

ROLE_REFUSAL = {
    CONSULTANT: "这个命令仅限本店顾问使用，如需帮助请联系销售经理。",
    MANAGER: "这个命令仅限销售经理使用。",
}
