"""`python -m bot`: start the bot (settings: .env / environment, see .env.example)."""

from bot.app import main

main()
