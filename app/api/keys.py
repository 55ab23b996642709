"""API keys: publishable keys call suggest and events; secret keys call everything."""

from __future__ import annotations

import hmac
from enum import Enum


class Scope(Enum):
    PUBLISHABLE = "publishable"
    SECRET = "secret"


def scope_of(key: str | None, *, secret_keys: list[str], publishable_keys: list[str]) -> Scope | None:
    """The scope a presented key grants, compared in constant time; None for no or unknown key."""
    if not key:
        return None
    presented = key.encode("utf-8")
    # Compare against every key, without stopping early, so timing says nothing about which matched.
    is_secret = any([hmac.compare_digest(presented, k.encode("utf-8")) for k in secret_keys])  # noqa: C419
    is_publishable = any([hmac.compare_digest(presented, k.encode("utf-8")) for k in publishable_keys])  # noqa: C419
    if is_secret:
        return Scope.SECRET
    if is_publishable:
        return Scope.PUBLISHABLE
    return None
