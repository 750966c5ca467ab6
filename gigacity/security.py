"""The client's address behind trusted proxies, for lockouts and rate limits.

Each trusted proxy appends the address it received the request from to X-Forwarded-For, so with N
proxies in front the client's address is the N-th entry from the right; anything further left was
written by the client and proves nothing. Without proxies (DJANGO_PROXY_COUNT=0) it is REMOTE_ADDR.
"""

from __future__ import annotations

from django.conf import settings


def client_ip(request) -> str:
    proxies = settings.GIGACITY_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR", "")
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]
