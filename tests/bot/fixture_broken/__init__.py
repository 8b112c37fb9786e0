"""Plugins that must stop the start (tests/bot/test_loader.py loads this package)."""
