"""AsyncPaginator against a loopback server: counts, resume, faults, prefetch, cleanup, raw mode."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import anyio
import msgspec
import pytest

from aiopinterest import Client, RetryPolicy
from aiopinterest.errors import PaginationError, RequestValidationError, ServerError
from aiopinterest.models import Pin
from aiopinterest.pagination import AsyncPaginator, Page

from .conftest import PinServer

PinsApi = Callable[..., Awaitable[tuple[PinServer, Client]]]


def ids(pins: list[Pin]) -> list[int]:
    return [int(pin.id or "-1") for pin in pins]


async def collect(paginator: AsyncPaginator[Pin]) -> list[Pin]:
    return [pin async for pin in paginator]


async def settle() -> None:
    """Let the event loop run the finalisers of abandoned loops."""
    gc.collect()
    for _ in range(20):
        await asyncio.sleep(0)


def other_tasks() -> set[asyncio.Task[object]]:
    """Tasks left on the client's side (the loopback server's own handler tasks end on their own schedule; the
    client's one task per event loop, which closes its session as the loop ends, is no leftover)."""
    return {
        task
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task()
        and not getattr(task.get_coro(), "__qualname__", "").startswith("RequestHandler.")
        and getattr(task.get_coro(), "__qualname__", "") != "Sessions._close_when_loop_ends"
    }


def prefetch_tasks() -> set[asyncio.Task[object]]:
    return {task for task in other_tasks() if "read_ahead" in getattr(task.get_coro(), "__qualname__", "")}


async def test_streams_every_item_once_across_pages(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=103)
    pins = await collect(client.boards.list_pins(board_id="1", page_size=10))
    assert ids(pins) == list(range(103))
    assert [bookmark for bookmark, _ in server.requests] == [None, *(f"b{n}" for n in range(10, 110, 10))]


async def test_page_size_defaults_to_the_operation_maximum(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=600)
    pins = await collect(client.boards.list_pins(board_id="1"))
    assert len(pins) == 600
    assert {size for _, size in server.requests} == {250}
    assert len(server.requests) == 3


async def test_await_gives_the_first_page(pins_api: PinsApi) -> None:
    _, client = await pins_api(total=30)
    page = await client.boards.list_pins(board_id="1", page_size=10)
    assert isinstance(page, Page)
    assert ids(page.items) == list(range(10))
    assert page.bookmark == "b10"
    last = await client.boards.list_pins(board_id="1", page_size=10, bookmark="b20")
    assert ids(last.items) == list(range(20, 30))
    assert last.bookmark is None


async def test_pages_carry_the_position_after_them(pins_api: PinsApi) -> None:
    _, client = await pins_api(total=25)
    pages = [page async for page in client.boards.list_pins(board_id="1", page_size=10).pages()]
    assert [ids(page.items) for page in pages] == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert [page.bookmark for page in pages] == ["b10", "b20", None]


@pytest.mark.parametrize("stop_after", [1, 9, 10, 15, 20, 24])
async def test_resume_from_a_bookmark_taken_mid_stream(pins_api: PinsApi, stop_after: int) -> None:
    _, client = await pins_api(total=37)
    first = client.boards.list_pins(board_id="1", page_size=10)
    seen: list[Pin] = []
    async with first:
        async for pin in first:
            seen.append(pin)
            if len(seen) == stop_after:
                break
    saved = first.bookmark
    assert not first.exhausted
    rest = await collect(client.boards.list_pins(board_id="1", bookmark=saved))
    assert ids(seen) + ids(rest) == list(range(37))


async def test_a_mid_page_bookmark_is_an_sdk_token_and_a_boundary_one_is_the_servers(
    pins_api: PinsApi,
) -> None:
    _, client = await pins_api(total=30)
    paginator = client.boards.list_pins(board_id="1", page_size=10)
    async with paginator:
        async for pin in paginator:
            if pin.id == "9":
                assert paginator.bookmark == "b10"
            if pin.id == "12":
                break
    assert paginator.bookmark is not None
    assert paginator.bookmark.startswith("aiopinterest:1:")


async def test_iterating_again_continues_where_the_last_loop_stopped(pins_api: PinsApi) -> None:
    _, client = await pins_api(total=30)
    paginator = client.boards.list_pins(board_id="1", page_size=10)
    first: list[Pin] = []
    async with paginator:
        async for pin in paginator:
            first.append(pin)
            if len(first) == 13:
                break
    rest = await collect(paginator)
    assert ids(first) + ids(rest) == list(range(30))
    assert paginator.exhausted
    assert paginator.bookmark is None
    assert await collect(paginator) == []
    assert (await paginator).items == []


async def test_a_mid_page_bookmark_keeps_its_page_size(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=30)
    paginator = client.boards.list_pins(board_id="1", page_size=7).with_options(max_items=3)
    assert len(await collect(paginator)) == 3
    resumed = client.boards.list_pins(board_id="1", bookmark=paginator.bookmark)
    assert ids(await collect(resumed)) == list(range(3, 30))
    assert {size for _, size in server.requests} == {7}
    with pytest.raises(RequestValidationError) as error:
        client.boards.list_pins(board_id="1", bookmark=paginator.bookmark, page_size=10)
    assert error.value.field == "page_size"


async def test_a_malformed_sdk_token_is_rejected_before_sending(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=5)
    with pytest.raises(RequestValidationError) as error:
        client.boards.list_pins(board_id="1", bookmark="aiopinterest:1:not-base64!")
    assert error.value.field == "bookmark"
    assert server.requests == []


async def test_max_items_stops_without_fetching_further_pages(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100)
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(max_items=25)
    assert ids(await collect(paginator)) == list(range(25))
    assert len(server.requests) == 3
    assert not paginator.exhausted
    pages = [
        page
        async for page in client.boards.list_pins(board_id="1", page_size=10)
        .with_options(max_items=15)
        .pages()
    ]
    assert [len(page.items) for page in pages] == [10, 5]
    first = await client.boards.list_pins(board_id="1", page_size=10).with_options(max_items=4)
    assert ids(first.items) == [0, 1, 2, 3]
    assert first.bookmark is not None
    assert ids(await collect(client.boards.list_pins(board_id="1", bookmark=first.bookmark))) == list(
        range(4, 100)
    )


async def test_transient_failures_are_retried_by_the_transport(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=50, fail={"b20": [503, 500]})
    assert ids(await collect(client.boards.list_pins(board_id="1", page_size=10))) == list(range(50))
    assert [bookmark for bookmark, _ in server.requests].count("b20") == 3


@pytest.mark.parametrize("prefetch", [0, 1, 3])
async def test_final_failure_carries_the_resume_bookmark(
    pins_api: PinsApi, make_client: Callable[..., Client], prefetch: int
) -> None:
    _server, client = await pins_api(total=60, fail={"b30": [500, 500]})
    client = make_client(
        str(client.base_url).removesuffix("/v5"), retry=RetryPolicy(max_attempts=2, jitter=lambda: 0.5)
    )
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(prefetch=prefetch)
    seen: list[Pin] = []
    with pytest.raises(PaginationError) as error:
        async for pin in paginator:
            seen.append(pin)
    assert isinstance(error.value.__cause__, ServerError)
    assert ids(seen) == list(range(30))
    assert error.value.bookmark == paginator.bookmark == "b30"
    rest = await collect(client.boards.list_pins(board_id="1", bookmark=error.value.bookmark))
    assert ids(seen) + ids(rest) == list(range(60))


async def test_failure_of_a_page_after_a_mid_page_resume(
    pins_api: PinsApi, make_client: Callable[..., Client]
) -> None:
    _server, client = await pins_api(total=40, fail={"b20": [400]})
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(max_items=5)
    head = await collect(paginator)
    resumed = client.boards.list_pins(board_id="1", bookmark=paginator.bookmark)
    seen: list[Pin] = []
    with pytest.raises(PaginationError) as error:
        async for pin in resumed:
            seen.append(pin)
    rest = await collect(client.boards.list_pins(board_id="1", bookmark=error.value.bookmark))
    assert ids(head) + ids(seen) + ids(rest) == list(range(40))


async def test_a_repeated_bookmark_raises_instead_of_looping(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100, loop={"b20"})
    seen: list[Pin] = []
    with pytest.raises(PaginationError) as error:
        async for pin in client.boards.list_pins(board_id="1", page_size=10):
            seen.append(pin)
    assert "b20" in str(error.value)
    assert ids(seen) == list(range(30))
    assert error.value.bookmark == "b20"
    assert len(server.requests) == 3


async def test_a_bookmark_cycle_through_an_earlier_page_is_caught(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100, empty={"b10"})
    server.empty.add("b10e")  # b10 -> b10e -> b10e: the cycle closes on the second request of b10e
    with pytest.raises(PaginationError):
        await collect(client.boards.list_pins(board_id="1", page_size=10))
    assert len(server.requests) == 3


async def test_empty_pages_with_a_next_bookmark_are_skipped_over(pins_api: PinsApi) -> None:
    _server, client = await pins_api(total=30, empty={None, "b10", "b20"})
    assert ids(await collect(client.boards.list_pins(board_id="1", page_size=10))) == list(range(30))
    pages = [page async for page in client.boards.list_pins(board_id="1", page_size=10).pages()]
    assert [len(page.items) for page in pages] == [0, 10, 0, 10, 0, 10]


@pytest.mark.parametrize("depth", [1, 2, 4])
async def test_prefetch_stays_within_depth_pages_ahead(pins_api: PinsApi, depth: int) -> None:
    server, client = await pins_api(total=200)
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(prefetch=depth)
    consumed = 0
    ahead: list[int] = []
    async for _ in paginator.pages():
        consumed += 1
        for _ in range(10):  # a consumer slow enough for the producer to run as far ahead as it may
            await asyncio.sleep(0)
        ahead.append(len(server.requests) - consumed)
    assert consumed == 20
    assert max(ahead) == depth


async def test_prefetch_zero_fetches_only_on_demand(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=50)
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(prefetch=0)
    async for page in paginator.pages():
        for _ in range(10):
            await asyncio.sleep(0)
        assert page.items
        assert len(server.requests) == int(page.items[0].id or 0) // 10 + 1


async def test_break_with_a_prefetch_in_flight_cancels_it(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100, stall={"b10"})
    async for pin in client.boards.list_pins(board_id="1", page_size=10):
        await server.stalled.wait()
        assert pin.id == "0"
        break
    await settle()
    assert server.cancelled == 1
    assert server.in_flight == 0
    assert not other_tasks()


async def test_async_with_closes_before_the_block_exits(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100, stall={"b10"})
    paginator = client.boards.list_pins(board_id="1", page_size=10)
    async with paginator:
        async for _ in paginator:
            await server.stalled.wait()
            break
    assert not prefetch_tasks()
    assert server.in_flight == 0 or server.cancelled == 0  # the server may notice the disconnect later
    await settle()
    assert not other_tasks()
    assert server.cancelled == 1


async def test_an_exception_in_the_consumer_propagates_and_cleans_up(pins_api: PinsApi) -> None:
    server, client = await pins_api(total=100, stall={"b10"})
    paginator = client.boards.list_pins(board_id="1", page_size=10)
    with pytest.raises(LookupError):
        async with paginator:
            async for _ in paginator:
                await server.stalled.wait()
                raise LookupError("consumer failed")
    assert not prefetch_tasks()
    assert paginator.bookmark is not None  # item 0 was handed out, so it resumes at item 1
    assert ids(
        await collect(
            client.boards.list_pins(board_id="1", bookmark=paginator.bookmark).with_options(max_items=3)
        )
    ) == [1, 2, 3]


@pytest.mark.parametrize("prefetch", [0, 1])
async def test_cancellation_while_waiting_for_a_page_stops_cleanly(pins_api: PinsApi, prefetch: int) -> None:
    server, client = await pins_api(total=100, stall={"b10"})
    paginator = client.boards.list_pins(board_id="1", page_size=10).with_options(prefetch=prefetch)
    seen: list[Pin] = []

    async def consume() -> None:
        async for pin in paginator:
            seen.append(pin)

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await server.stalled.wait()
        for _ in range(5):
            await asyncio.sleep(0)
        group.cancel_scope.cancel()
    await settle()
    assert ids(seen) == list(range(10))
    assert server.in_flight == 0
    assert not other_tasks()
    assert paginator.bookmark == "b10"


async def test_raw_mode_yields_undecoded_items(pins_api: PinsApi) -> None:
    _, client = await pins_api(total=25)
    raw = client.boards.list_pins(board_id="1", page_size=10).raw()
    items = [item async for item in raw]
    assert all(isinstance(item, msgspec.Raw) for item in items)
    assert [msgspec.json.decode(item) for item in items] == [
        {"id": str(n), "title": f"pin {n}"} for n in range(25)
    ]
    first = await client.boards.list_pins(board_id="1", page_size=10).raw()
    assert bytes(first.items[0]) == b'{"id":"0","title":"pin 0"}'


async def test_options_validate(pins_api: PinsApi) -> None:
    _, client = await pins_api(total=1)
    paginator = client.boards.list_pins(board_id="1")
    with pytest.raises(ValueError):
        paginator.with_options(prefetch=-1)
    with pytest.raises(ValueError):
        paginator.with_options(max_items=-1)
    assert "boards/list_pins" in repr(paginator)
