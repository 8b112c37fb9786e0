"""Access tokens, cached per credential, fetched once however many tasks ask.

wechatpy keys its token cache by corp id and a prefix of the secret, and its
expiry by corp id alone: two secrets of one corp (the app's and the customer
contact secret) overwrite each other's expiry. This cache keys each token by
(kind, corp/app id, scope) where scope names the agent or a hash of the secret,
and holds one asyncio.Lock per key so concurrent callers share one fetch.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

TokenKey = tuple[str, str, str]  # (kind, corp id / app id, scope)
Fetcher = Callable[[], Awaitable[tuple[str, int]]]  # -> (token, expires_in seconds)

REFRESH_MARGIN = 300.0  # renew this long before WeChat's expiry
MIN_LIFETIME = 60.0


def secret_scope(secret: str) -> str:
    """A scope naming a secret without revealing it."""
    return "secret:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


@dataclass
class _Entry:
    token: str | None = None
    expires_at: float = 0.0  # monotonic
    lock: asyncio.Lock | None = None


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[TokenKey, _Entry] = {}
        self.fetches = 0  # for tests and logs: how many tokens were fetched

    def _entry(self, key: TokenKey) -> _Entry:
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
        if entry.lock is None:
            entry.lock = asyncio.Lock()
        return entry

    def current(self, key: TokenKey) -> str | None:
        """The cached token if still fresh (no fetch): for calls already under way."""
        entry = self._entries.get(key)
        if entry is None or entry.token is None or self._clock() >= entry.expires_at:
            return None
        return entry.token

    async def get(self, key: TokenKey, fetch: Fetcher) -> str:
        token = self.current(key)
        if token is not None:
            return token
        entry = self._entry(key)
        assert entry.lock is not None
        async with entry.lock:
            token = self.current(key)  # another task may have fetched it meanwhile
            if token is not None:
                return token
            token, expires_in = await fetch()
            self.fetches += 1
            lifetime = max(float(expires_in) - REFRESH_MARGIN, MIN_LIFETIME)
            entry.token, entry.expires_at = token, self._clock() + lifetime
            return token

    def invalidate(self, key: TokenKey, token: str | None) -> None:
        """Forget `token` (WeChat rejected it); a newer token fetched meanwhile stays."""
        entry = self._entries.get(key)
        if entry is not None and (token is None or entry.token == token):
            entry.token, entry.expires_at = None, 0.0
