"""Key names: derived from the credentials without containing them, in one Redis Cluster slot per app and user."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

_DEFAULT_NAMESPACE = "aiopinterest"
#: The category name of the universal limit's keys (no rate-limit category is named so).
UNIVERSAL = "*"


@dataclass(frozen=True, slots=True)
class FleetKeys:
    """Every key the fleet uses for one app and user; they share a hash tag, so Lua scripts may touch them all."""

    tag: str

    @property
    def token(self) -> str:
        """The access token and its scopes (JSON); expires when the token does."""
        return f"{{{self.tag}}}:token"

    @property
    def refresh(self) -> str:
        """The latest refresh token and its expiry (JSON); expires when the refresh token does."""
        return f"{{{self.tag}}}:refresh"

    @property
    def lock(self) -> str:
        """Held (SET NX PX) by the one process renewing the token; expires if that process dies."""
        return f"{{{self.tag}}}:token-lock"

    def budget(self, category: str) -> tuple[str, str, str, str]:
        """A category's shared budget: its schedule and block (hash), the permits each process holds (hash),
        the processes' leases (sorted set, by expiry), and the rates they found without headers (hash).
        ``UNIVERSAL`` names the limit shared by all categories."""
        base = f"{{{self.tag}}}:budget:{category}"
        return base, f"{base}:held", f"{base}:leases", f"{base}:rates"


def fleet_keys(
    prefix: str | None,
    *,
    app_id: str | None,
    refresh_token: str | None,
    scopes: Iterable[str] | None,
    access_token: str | None = None,
) -> FleetKeys:
    """``prefix`` when given; else a hash of the app id and the refresh token (or of the scopes asked for with
    client credentials; or, with neither an app nor a refresh token, of the access token, the only identity a
    client then has), so that key names reveal nothing and the same credentials meet the same keys."""
    if prefix is not None:
        if not prefix or "{" in prefix or "}" in prefix:
            raise ValueError(f"redis_key_prefix must be non-empty and without braces, got {prefix!r}")
        return FleetKeys(prefix)
    if refresh_token:
        grant = refresh_token
    elif app_id is None and access_token:
        grant = "access_token:" + access_token  # users' static tokens must not meet in one budget
    else:
        grant = "client_credentials:" + ",".join(sorted(scopes or ()))
    digest = hashlib.sha256(f"{app_id or ''}\0{grant}".encode()).hexdigest()[:32]
    return FleetKeys(f"{_DEFAULT_NAMESPACE}:{digest}")
