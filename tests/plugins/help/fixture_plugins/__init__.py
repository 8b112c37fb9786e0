"""Plugins that exist only for tests (loaded by tests/support/nonebot_env.py)."""
