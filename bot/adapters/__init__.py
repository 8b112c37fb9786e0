"""Platform adapters of our own (OneBot v11 comes from nonebot-adapter-onebot)."""
