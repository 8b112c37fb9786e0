"""The NoneBot2 runtime of the owner-group bot: `python -m bot` (see bot.app)."""
