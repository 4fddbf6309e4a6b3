"""Export arguments checked before anything is sent."""

from __future__ import annotations

import pytest

from aiopinterest.cli.call import UsageError
from aiopinterest.cli.export import Shard
from aiopinterest.cli.options import parse_shard


def test_shards_are_k_of_n() -> None:
    assert parse_shard("2/4") == Shard(1, 4)
    for bad in ("0/2", "3/2", "2", "a/b"):
        with pytest.raises(UsageError, match="--shard"):
            parse_shard(bad)


def test_every_parent_belongs_to_exactly_one_shard() -> None:
    shards = [Shard(index, 3) for index in range(3)]
    for parent in map(str, range(100)):
        assert sum(shard.owns(parent) for shard in shards) == 1
    assert [shard.owns(None) for shard in shards] == [True, False, False]
