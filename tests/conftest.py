"""Settings for every test (and the bot processes the e2e tests start, which inherit
the environment), and the end of the PostgreSQL databases they made."""

import os
from collections.abc import Iterator

import pytest

from bot.notify_texts import STRICT_ENV

# A staff DM whose payload lacks a key its text reads fails instead of printing a blank.
os.environ[STRICT_ENV] = "1"


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_databases() -> Iterator[None]:
    """The databases tests/desk, tests/features, the bot tests and tests/e2e made on DESK_TEST_POSTGRES_URL."""
    yield
    from tests.desk.conftest import _postgres

    # a throwaway cluster (scripts/pg_test_server.sh) is deleted whole, faster than dropping each
    if _postgres is not None and not os.environ.get("DESK_TEST_POSTGRES_DIR"):
        _postgres.drop_all()
