"""python -m bot.sim: play a scripted owner-group scenario against a running bot."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from pydantic import ValidationError
from websockets.exceptions import InvalidStatus

from bot.sim.client import OneBotClient
from bot.sim.script import BUILTIN, load_script, play
from bot.sim.transcript import Transcript


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.sim", description=__doc__)
    parser.add_argument("--url", default="ws://127.0.0.1:8080/onebot/v11/ws")
    parser.add_argument(
        "--token", default=os.environ.get("ONEBOT_ACCESS_TOKEN"),
        help="access token (default: $ONEBOT_ACCESS_TOKEN)",
    )  # fmt: skip
    parser.add_argument(
        "--script", default="help", help=f"a .json / .py file or a builtin: {', '.join(BUILTIN)}"
    )
    parser.add_argument("--self-id", type=int, default=None, help="the simulated bot QQ id")
    parser.add_argument(
        "--linger", type=float, default=3.0, help="seconds to wait for late replies"
    )
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between steps")
    parser.add_argument("--quiet-api", action="store_true", help="hide non-message API calls")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    try:
        script = load_script(args.script)
    except (ValueError, ValidationError) as exc:
        print(f"bad script: {exc}", file=sys.stderr)
        return 2
    transcript = Transcript()
    client = OneBotClient(
        args.url, self_id=args.self_id or script.self_id, token=args.token,
        on_call=None if args.quiet_api else transcript.api_call,
    )  # fmt: skip
    if args.quiet_api:
        client.on_call = lambda call: transcript.api_call(call) if "send" in call.action else None
    transcript.bot_name = client.nickname
    try:
        await client.connect()
    except InvalidStatus as exc:
        status = exc.response.status_code
        hint = " (wrong or missing --token?)" if status in (401, 403) else ""
        print(f"{args.url} refused the connection: HTTP {status}{hint}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"cannot connect to {args.url}: {exc!r}", file=sys.stderr)
        return 2
    print(f"connected to {args.url} as QQ {client.self_id}")
    try:
        failures = await play(client, script, transcript, pace=args.pace)
        await asyncio.sleep(args.linger)
    finally:
        await client.close()
    sent = sum(1 for c in client.calls if "send" in c.action)
    print(
        f"done: {len(client.calls)} API calls, {sent} messages from the bot, {failures} failed expectations"
    )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
