"""What masking phones in every log line (bot.logs) costs per record.

Logs the lines NoneBot writes for one group message through loguru into a
discarding sink, without and with the bot's patcher, and prints µs per record.

    .venv/bin/python bench/log_mask_bench.py
"""

from __future__ import annotations

import time

from nonebot.log import logger

from bot.logs import install_log_privacy

LINES = {
    "plain": "Checking for matchers in priority 5...",
    "event, no phone": (
        "<m>OneBot V11 880001</m> | [message.group.normal]: "
        "Message 562046215 from 30301@[群:777001] '这车落地多少钱？'"
    ),
    "event, a phone": (
        "<m>OneBot V11 880001</m> | [message.group.normal]: "
        "Message 562046215 from 30301@[群:777001] '想买车，我电话13812340501'"
    ),
}
ROUNDS = 3000


def per_record(line: str) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        logger.opt(colors=True).info(line)
    return (time.perf_counter() - start) / ROUNDS * 1e6


def main() -> None:
    logger.remove()
    logger.add(lambda _: None, level=0, format="{time} [{level}] {name} | {message}")
    before = {name: per_record(line) for name, line in LINES.items()}
    install_log_privacy()
    after = {name: per_record(line) for name, line in LINES.items()}
    print(f"{'line':<18}{'without µs':>12}{'with µs':>10}")
    for name in LINES:
        print(f"{name:<18}{before[name]:>12.1f}{after[name]:>10.1f}")


if __name__ == "__main__":
    main()
