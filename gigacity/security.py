"""Who is asking and how often: the client's address behind trusted proxies, and rate limits.

Each trusted proxy appends the address it received the request from to X-Forwarded-For, so with N
proxies in front the client's address is the N-th entry from the right; anything further left was
written by the client and proves nothing. Without proxies (DJANGO_PROXY_COUNT=0) it is REMOTE_ADDR.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache


def client_ip(request) -> str:
    proxies = settings.GIGACITY_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


@dataclass(frozen=True)
class Limit:
    """At most `count` events in `seconds` for one key (an address, an account), counted in the cache.

    The window starts at the first event. Set REDIS_CACHE_URL in production so that every worker
    process counts together; with the per-process memory cache each process counts on its own."""

    name: str
    count: int
    seconds: int

    def _cache_key(self, key: str) -> str:
        # Hashed: the key may be an e-mail address, which the cache need not hold in clear.
        return f"gigacity:limit:{self.name}:{hashlib.sha256(key.encode()).hexdigest()}"

    def reached(self, key: str) -> bool:
        return (cache.get(self._cache_key(key)) or 0) >= self.count

    def record(self, key: str) -> None:
        cache_key = self._cache_key(key)
        # add() opens a window only where there is none; incr() is atomic in Redis.
        if not cache.add(cache_key, 1, self.seconds):
            try:
                cache.incr(cache_key)
            except ValueError:  # the window closed between the two calls
                cache.add(cache_key, 1, self.seconds)

    @property
    def minutes(self) -> int:
        return max(1, self.seconds // 60)
