"""Plugins that exist only for tests (loaded by tests/bot/conftest.py)."""
