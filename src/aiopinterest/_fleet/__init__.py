"""State shared by a fleet of processes through Redis: the OAuth token, renewed once for all of them, and the
governor's budget.

Imported only when a client is given ``redis_url``; redis-py itself is imported on first use, so that
``aiopinterest[redis]`` stays optional.
"""

from .budget import RedisBudget
from .keys import FleetKeys, fleet_keys
from .tokens import RedisTokenStore

__all__ = ["FleetKeys", "RedisBudget", "RedisTokenStore", "fleet_keys"]
