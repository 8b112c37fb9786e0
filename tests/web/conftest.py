"""The web desk's route tests: the bot's FastAPI app (as nonebug sets NoneBot up,
tests/support/nonebot_env.py) with the web desk mounted, driven over ASGI."""

import pytest

from desk import Desk
from tests.support.nonebot_env import *  # noqa: F403 - its fixtures and pytest_configure
from tests.support.nonebot_env import CONSULTANT_QQ, OTHER_CONSULTANT_QQ, ROSTER_MANAGER_QQ
from tests.support.web import Browser, browser, logged_in, web_app  # noqa: F401


@pytest.fixture
async def consultant(browser, desk: Desk) -> Browser:  # noqa: F811
    """王顾问 (QQ 10001), logged in."""
    return await logged_in(browser, desk, CONSULTANT_QQ)


@pytest.fixture
async def other_consultant(browser, desk: Desk) -> Browser:  # noqa: F811
    """李顾问 (QQ 10002), logged in."""
    return await logged_in(browser, desk, OTHER_CONSULTANT_QQ)


@pytest.fixture
async def manager(browser, desk: Desk) -> Browser:  # noqa: F811
    """周经理 (QQ 90002, a roster manager), logged in."""
    return await logged_in(browser, desk, ROSTER_MANAGER_QQ)


@pytest.fixture(autouse=True)
def fresh_login_attempts():
    """Each test starts with no failed logins counted against its address."""
    from web.pages.login import Login, LoginAttempts

    Login.attempts = LoginAttempts(10)
