"""The state behind the organic API: the user account, boards, board sections, pins and media.

Built to hold a million pins cheaply. Seeded pins are never stored: a seed reserves a block of consecutive ids,
and a seeded pin's fields follow from its id (its JSON comes from one pre-encoded template). A pin is only stored,
as a :class:`~aiopinterest.models.Pin`, once it is created, saved or changed. Every listing is ordered by id (so
oldest first) and resumes after the last id it returned, which keeps pagination stable under inserts and deletes.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import heapq
import itertools
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from .. import models
from ._failures import invalid, not_found

Clock = Callable[[], float]
PinFilter = Callable[[int], bool]

USERNAME = "simulated_user"
#: Seconds an uploaded media stays ``processing`` unless the simulator is told otherwise.
DEFAULT_MEDIA_PROCESSING_DELAY = 0.5
_ID_BASE = 10**17
#: The "board" of an ad-only Pin: none of the user's (real ids start at _ID_BASE, so 0 names no board).
NO_BOARD = 0
_SEEDED_EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
_TOPICS = ("recipe", "travel", "garden", "fashion", "decor", "fitness", "art", "wedding")
_TOPIC_BYTES = tuple(topic.encode() for topic in _TOPICS)
_COLORS = (b"#e60023", b"#2b6cb0", b"#38a169", b"#d69e2e", b"#805ad5", b"#319795", b"#dd6b20", b"#4a5568")
_OWNER = models.BoardOwner(username=USERNAME)


def _image_sizes(stem: str) -> models.ImageSize:
    def size(label: str, width: int, height: int) -> models.ImageDetails:
        return models.ImageDetails(
            width=width, height=height, url=f"https://i.example.com/{label}/{stem}.jpg"
        )

    return models.ImageSize(
        x150x150=size("150x150", 150, 150), x400x300=size("400x300", 400, 300), x600x=size("600x", 600, 900)
    )


def _seeded_template() -> bytes:
    """A seeded pin's JSON with ``%(name)s`` slots; msgspec does the encoding once, per-pin work is a format."""
    pin = models.Pin(
        id="@@id@@",
        board_id="@@board_id@@",
        board_owner=_OWNER,
        title="@@Topic@@ idea #@@ordinal@@",
        description="A simulated pin about @@topic@@.",
        link="https://example.com/pins/@@id@@",
        dominant_color="@@color@@",
        creative_type="REGULAR",
        is_owner=True,
        is_standard=True,
        has_been_promoted=False,
        note="",
        media=models.PinMedia(media_type="image", images=_image_sizes("@@id@@")),
    )
    # A slot where a date-time goes: replace() takes any value, the field's type does not.
    pin = msgspec.structs.replace(pin, created_at="@@created_at@@")
    template = msgspec.json.encode(pin).replace(b"%", b"%%")
    for name in (b"id", b"created_at", b"board_id", b"Topic", b"topic", b"ordinal", b"color"):
        template = template.replace(b"@@" + name + b"@@", b"%(" + name + b")s")
    return template


_SEEDED_PIN = _seeded_template()


def seeded_text(ordinal: int) -> tuple[str, str]:
    """The title and description of the ``ordinal``-th seeded pin (searchable by topic: "garden", "art", ...)."""
    topic = _TOPICS[ordinal % len(_TOPICS)]
    return f"{topic.capitalize()} idea #{ordinal}", f"A simulated pin about {topic}."


def _timestamp(moment: datetime.datetime) -> datetime.datetime:
    # Encoded as the API writes it: "2026-12-01T20:10:40", no fraction, no zone.
    return moment.replace(microsecond=0, tzinfo=None)


@functools.cache
def _seeded_day(day: int) -> bytes:
    return (_SEEDED_EPOCH + datetime.timedelta(days=day)).strftime("%Y-%m-%d").encode()


def _seeded_created_at(ordinal: int) -> bytes:
    """Seeded pins were created a minute apart from 2024-01-01 (cheaper than strftime for each of a million)."""
    day, minute = divmod(ordinal, 1440)
    return b"%sT%02d:%02d:00" % (_seeded_day(day), minute // 60, minute % 60)


@dataclass(frozen=True, slots=True)
class _SeedBlock:
    """Pins reserved by one ``seed`` call: board ``k`` owns ids ``first + k * per_board`` onwards."""

    first: int
    stop: int
    ordinal: int  # the seeded-pin number of ``first``, for titles
    per_board: int
    board_ids: tuple[int, ...]

    def board_of(self, pin_id: int) -> int:
        return self.board_ids[(pin_id - self.first) // self.per_board]


@dataclass(slots=True)
class _Section:
    model: models.BoardSection
    pin_ids: list[int] = field(default_factory=list)  # sorted; entries whose pin moved away are skipped


@dataclass(slots=True)
class _Board:
    model: models.Board
    seeded: range = range(0)
    extra: list[int] = field(default_factory=list)  # sorted ids of pins here that were not seeded here
    # Whether any pin seeded here was changed, moved or deleted; until then listing skips per-pin checks.
    seeded_touched: bool = False
    sections: dict[int, _Section] = field(default_factory=dict)
    pin_count: int = 0


@dataclass(slots=True)
class _Media:
    id: int
    media_type: str
    key: str
    uploaded_at: float | None = None
    fails: bool = False


class Store:
    """The simulator's organic state. All methods are synchronous: the event loop serialises them."""

    def __init__(self, *, clock: Clock, media_processing_delay: float) -> None:
        self.clock = clock
        self.media_processing_delay = media_processing_delay
        self._ids = itertools.count(_ID_BASE)
        self._boards: dict[int, _Board] = {}
        self._pins: dict[int, models.Pin] = {}
        self._created: list[int] = []  # ids of pins not seeded, ascending
        self._deleted: set[int] = set()
        self._blocks: list[_SeedBlock] = []
        self._last_block: _SeedBlock | None = None
        self._seeded_count = 0
        self._media: dict[int, _Media] = {}
        self._media_by_key: dict[str, _Media] = {}

    # -- account -------------------------------------------------------------------------------------------

    def account(self) -> models.Account:
        return models.Account(
            id=str(_ID_BASE - 1),
            username=USERNAME,
            account_type="BUSINESS",
            business_name="Simulated Business",
            about="The account of the aiopinterest simulator.",
            profile_image="https://i.example.com/profile.jpg",
            website_url="https://example.com",
            board_count=len(self._boards),
            pin_count=sum(board.pin_count for board in self._boards.values()),
            follower_count=0,
            following_count=0,
            monthly_views=0,
        )

    # -- seeding -------------------------------------------------------------------------------------------

    def seed(self, boards: int, pins_per_board: int, privacy: str = "PUBLIC") -> list[str]:
        """Create ``boards`` boards holding ``pins_per_board`` pins each, in time independent of the pin count."""
        if boards < 0 or pins_per_board < 0:
            raise ValueError("boards and pins_per_board must not be negative")
        start = len(self._boards)
        board_ids = [
            self._add_board(f"Board {start + index + 1}", f"Seeded board {start + index + 1}", privacy)
            for index in range(boards)
        ]
        if boards and pins_per_board:
            first = next(self._ids)
            stop = first + pins_per_board * boards
            block = _SeedBlock(first, stop, self._seeded_count, pins_per_board, tuple(board_ids))
            # Reserve the whole id block: the counter moves past it without materialising anything.
            self._ids = itertools.count(block.stop)
            self._blocks.append(block)
            self._seeded_count += pins_per_board * boards
            for index, board_id in enumerate(board_ids):
                board = self._boards[board_id]
                board.seeded = range(first + index * pins_per_board, first + (index + 1) * pins_per_board)
                board.pin_count = pins_per_board
        return [str(board_id) for board_id in board_ids]

    # -- boards --------------------------------------------------------------------------------------------

    def _add_board(self, name: str, description: str | None, privacy: str) -> int:
        board_id = next(self._ids)
        created = _timestamp(datetime.datetime.now(datetime.UTC))
        self._boards[board_id] = _Board(
            models.Board(
                id=str(board_id),
                name=name,
                description=description,
                privacy=privacy,
                owner=_OWNER,
                created_at=created,
                board_pins_modified_at=created,
                collaborator_count=0,
                follower_count=0,
                is_ads_only=False,
            )
        )
        return board_id

    def create_board(self, body: Mapping[str, Any]) -> models.Board:
        board_id = self._add_board(body["name"], body.get("description"), body.get("privacy") or "PUBLIC")
        return self.board(str(board_id))

    def _board(self, board_id: str | int) -> _Board:
        board = self._boards.get(_number(board_id))
        if board is None:
            raise not_found("Board", board_id)
        return board

    def board(self, board_id: str | int) -> models.Board:
        board = self._board(board_id)
        return msgspec.structs.replace(board.model, pin_count=board.pin_count)

    def update_board(self, board_id: str, body: Mapping[str, Any]) -> models.Board:
        board = self._board(board_id)
        for name in ("name", "description", "privacy"):
            if name in body:
                setattr(board.model, name, body[name])
        return self.board(board_id)

    def delete_board(self, board_id: str) -> None:
        # Its pins go with it: a pin whose board is gone no longer exists (see ``_board_of``).
        self._board(board_id)
        del self._boards[_number(board_id)]

    def board_ids(self, after: int, privacy: str = "ALL", query: str | None = None) -> Iterator[int]:
        allowed = {"ALL": None, "PUBLIC_AND_SECRET": ("PUBLIC", "SECRET")}.get(privacy, (privacy,))
        needle = query.casefold() if query else None
        # Boards are kept in id order (ids only grow), so "after" is a plain comparison.
        for board_id, board in self._boards.items():
            model = board.model
            if board_id <= after:
                continue
            if allowed is not None and model.privacy not in allowed:
                continue
            if needle is not None and needle not in f"{model.name} {model.description or ''}".casefold():
                continue
            yield board_id

    # -- sections ------------------------------------------------------------------------------------------

    def create_section(self, board_id: str, name: str) -> models.BoardSection:
        board = self._board(board_id)
        section_id = next(self._ids)
        board.sections[section_id] = _Section(models.BoardSection(id=str(section_id), name=name))
        return board.sections[section_id].model

    def _section(self, board_id: str, section_id: str | int) -> _Section:
        section = self._board(board_id).sections.get(_number(section_id))
        if section is None:
            raise not_found("Board section", section_id)
        return section

    def section(self, board_id: str, section_id: str | int) -> models.BoardSection:
        return self._section(board_id, section_id).model

    def update_section(self, board_id: str, section_id: str, name: str | None) -> models.BoardSection:
        section = self._section(board_id, section_id)
        if name is not None:
            section.model.name = name
        return section.model

    def delete_section(self, board_id: str, section_id: str) -> None:
        """Delete the section and the pins in it, as Pinterest does."""
        for pin_id in list(self.section_pin_ids(board_id, section_id, -1)):
            self.delete_pin(str(pin_id))
        del self._board(board_id).sections[_number(section_id)]

    def section_ids(self, board_id: str, after: int) -> Iterator[int]:
        sections = self._board(board_id).sections
        return (section_id for section_id in sections if section_id > after)

    def section_pin_ids(self, board_id: str, section_id: str, after: int) -> Iterator[int]:
        section = self._section(board_id, section_id)
        start = bisect.bisect_right(section.pin_ids, after)
        for pin_id in section.pin_ids[start:]:
            pin = self._pins.get(pin_id)
            if pin is not None and pin.board_section_id == section_id and self._board_of(pin_id) is not None:
                yield pin_id

    # -- pins ----------------------------------------------------------------------------------------------

    def _block_of(self, pin_id: int) -> _SeedBlock | None:
        block = self._last_block
        # Listings ask for runs of ids from one block: remember the last one found.
        if block is not None and block.first <= pin_id < block.stop:
            return block
        index = bisect.bisect_right(self._blocks, pin_id, key=lambda block: block.first) - 1
        if index >= 0 and pin_id < self._blocks[index].stop:
            self._last_block = self._blocks[index]
            return self._last_block
        return None

    def _board_of(self, pin_id: int) -> int | None:
        """The board a live pin is on (:data:`NO_BOARD` for an ad-only Pin), or ``None`` if there is no such pin
        (any more)."""
        if pin_id in self._deleted:
            return None
        pin = self._pins.get(pin_id)
        if pin is not None:
            if pin.board_id is None and pin.is_removable:
                return NO_BOARD
            board_id = _number(pin.board_id or "")
        else:
            block = self._block_of(pin_id)
            if block is None:
                return None
            board_id = block.board_of(pin_id)
        return board_id if board_id in self._boards else None

    def pin_json(self, pin_id: int) -> msgspec.Raw:
        """The pin's JSON, pre-encoded: from the template for an untouched seeded pin."""
        pin = self._pins.get(pin_id)
        if pin is not None:
            return msgspec.Raw(msgspec.json.encode(pin))
        block = self._block_of(pin_id)
        if block is None:
            raise not_found("Pin", pin_id)
        ordinal = block.ordinal + pin_id - block.first
        topic = _TOPIC_BYTES[ordinal % len(_TOPICS)]
        return msgspec.Raw(
            _SEEDED_PIN
            % {
                b"id": b"%d" % pin_id,
                b"created_at": _seeded_created_at(ordinal),
                b"board_id": b"%d" % block.board_of(pin_id),
                b"Topic": topic.capitalize(),
                b"topic": topic,
                b"ordinal": b"%d" % ordinal,
                b"color": _COLORS[ordinal % len(_COLORS)],
            }
        )

    def _live_pin(self, pin_id: str) -> tuple[int, int]:
        number = _number(pin_id)
        board_id = self._board_of(number)
        if board_id is None:
            raise not_found("Pin", pin_id)
        return number, board_id

    def pin(self, pin_id: str) -> msgspec.Raw:
        return self.pin_json(self._live_pin(pin_id)[0])

    def check_pin(self, pin_id: str) -> None:
        """Raise a 404 unless the pin exists (cheaper than :meth:`pin`, which renders it)."""
        self._live_pin(pin_id)

    def _stored_pin(self, pin_id: str) -> models.Pin:
        """The pin as a stored struct, materialising a seeded pin on its first change."""
        number, board_id = self._live_pin(pin_id)
        pin = self._pins.get(number)
        if pin is None:
            self._boards[board_id].seeded_touched = True
            pin = self._pins[number] = msgspec.json.decode(self.pin_json(number), type=models.Pin)
        return pin

    def _place(self, pin_id: int, board_id: int, section_id: str | None) -> None:
        """Record that the pin is now on ``board_id`` (and in ``section_id``) for the listings."""
        board = self._boards[board_id]
        if pin_id not in board.seeded:
            _insort_once(board.extra, pin_id)
        if section_id is not None:
            _insort_once(self._section(str(board_id), section_id).pin_ids, pin_id)
        board.pin_count += 1
        board.model.board_pins_modified_at = _timestamp(datetime.datetime.now(datetime.UTC))

    def _check_target(self, body: Mapping[str, Any]) -> tuple[int, str | None]:
        """The board (and section) a create, save or move names, which must exist."""
        board_id = body.get("board_id")
        if board_id is None:
            raise invalid("body.board_id", "is required")
        if _number(board_id) not in self._boards:
            raise invalid("body.board_id", f"board {board_id} does not exist")
        section_id = body.get("board_section_id")
        if section_id is not None and _number(section_id) not in self._boards[_number(board_id)].sections:
            raise invalid("body.board_section_id", f"section {section_id} is not on board {board_id}")
        return _number(board_id), section_id

    def create_pin(self, body: Mapping[str, Any]) -> models.Pin:
        ad_only = body.get("is_removable") is True
        # An ad-only Pin may name no board (the request checks refuse any other Pin without one): it is then on
        # none of the user's boards, and in no listing of them.
        board_id, section_id = (
            (NO_BOARD, None) if ad_only and body.get("board_id") is None else self._check_target(body)
        )
        source = body.get("media_source")
        if source is None:
            raise invalid("body.media_source", "is required")
        media, creative_type = self._pin_media(source)
        pin_id = next(self._ids)
        pin = models.Pin(
            id=str(pin_id),
            created_at=_timestamp(datetime.datetime.now(datetime.UTC)),
            board_id=None if board_id == NO_BOARD else str(board_id),
            board_section_id=section_id,
            board_owner=_OWNER,
            is_removable=ad_only,
            title=body.get("title"),
            description=body.get("description"),
            link=body.get("link"),
            alt_text=body.get("alt_text"),
            dominant_color=body.get("dominant_color"),
            parent_pin_id=body.get("parent_pin_id"),
            creative_type=creative_type,
            is_owner=True,
            is_standard=source.get("is_standard", True),
            has_been_promoted=False,
            note=body.get("note", ""),
            media=media,
        )
        return self._add_pin(pin_id, pin, board_id, section_id)

    def _add_pin(self, pin_id: int, pin: models.Pin, board_id: int, section_id: str | None) -> models.Pin:
        self._pins[pin_id] = pin
        self._created.append(pin_id)
        if board_id != NO_BOARD:
            self._place(pin_id, board_id, section_id)
        return pin

    def _pin_media(self, source: Mapping[str, Any]) -> tuple[models.PinMedia, str]:
        kind = source["source_type"]
        if kind == "video_id":
            media = self._media.get(_number(source["media_id"]))
            status = self._media_status(media) if media is not None else "unknown"
            if media is None or status != "succeeded":
                raise invalid(
                    "body.media_source.media_id",
                    f"media {source['media_id']} is not ready for use ({status})",
                )
            return (
                models.PinMedia(
                    media_type="video",
                    cover_image_url=source.get("cover_image_url")
                    or f"https://i.example.com/covers/{media.id}.jpg",
                    video_url=f"https://v.example.com/videos/{media.id}.mp4",
                    duration=15.0,
                    width=1080,
                    height=1920,
                    images=_image_sizes(f"covers/{media.id}"),
                ),
                "VIDEO",
            )
        if kind in ("multiple_image_urls", "multiple_image_base64"):
            items = [
                models.PinMediaItemsItem(images=_image_sizes(secrets.token_hex(8)))
                for _ in source.get("items", ())
            ]
            return models.PinMedia(media_type="multiple_images", items=items), "CAROUSEL"
        return models.PinMedia(media_type="image", images=_image_sizes(secrets.token_hex(8))), "REGULAR"

    def update_pin(self, pin_id: str, body: Mapping[str, Any]) -> models.Pin:
        pin = self._stored_pin(pin_id)
        number = _number(pin_id)
        if "board_id" in body or "board_section_id" in body:
            target = {"board_id": pin.board_id, "board_section_id": pin.board_section_id, **body}
            board_id, section_id = self._check_target(target)
            if pin.board_id is not None:
                self._boards[_number(pin.board_id)].pin_count -= 1
            pin.board_id, pin.board_section_id = str(board_id), section_id
            self._place(number, board_id, section_id)
        for name in ("title", "description", "link", "alt_text"):
            if name in body:
                setattr(pin, name, body[name])
        return pin

    def delete_pin(self, pin_id: str) -> None:
        number, board_id = self._live_pin(pin_id)
        self._deleted.add(number)
        self._pins.pop(number, None)
        board = self._boards.get(board_id)
        if board is not None:  # not an ad-only Pin
            board.pin_count -= 1
            board.seeded_touched |= number in board.seeded

    def save_pin(self, pin_id: str, body: Mapping[str, Any]) -> models.Pin:
        """Save (repin) a pin to a board: a new pin with the original as its parent."""
        original = msgspec.json.decode(self.pin(pin_id), type=models.Pin)
        board_id, section_id = self._check_target(body)
        new_id = next(self._ids)
        pin = msgspec.structs.replace(
            original,
            id=str(new_id),
            board_id=str(board_id),
            board_section_id=section_id,
            parent_pin_id=original.id,
            created_at=_timestamp(datetime.datetime.now(datetime.UTC)),
        )
        return self._add_pin(new_id, pin, board_id, section_id)

    def board_pin_ids(self, board_id: str, after: int) -> Iterator[int]:
        board = self._board(board_id)
        number = _number(board_id)
        seeded = range(max(board.seeded.start, after + 1), board.seeded.stop)
        extra = board.extra[bisect.bisect_right(board.extra, after) :]
        if not extra and not board.seeded_touched:
            return iter(seeded)
        return (pin_id for pin_id in heapq.merge(seeded, extra) if self._board_of(pin_id) == number)

    def all_pin_ids(self, after: int, keep: PinFilter | None = None) -> Iterator[int]:
        seeded = (range(max(block.first, after + 1), block.stop) for block in self._blocks)
        created = self._created[bisect.bisect_right(self._created, after) :]
        for pin_id in heapq.merge(*seeded, created):
            if self._board_of(pin_id) is not None and (keep is None or keep(pin_id)):
                yield pin_id

    def pin_filter(
        self, *, include_protected: bool, exclude_repins: bool, creative_types: Iterable[str] | None
    ) -> PinFilter:
        """A predicate for ``GET /pins``: protected boards' pins, repins and creative types, as asked."""
        wanted = set(creative_types) if creative_types else None

        def keep(pin_id: int) -> bool:
            board_id = self._board_of(pin_id)
            if board_id is None:
                return False
            board = self._boards.get(board_id)  # None for an ad-only Pin: on no board, so on no protected one
            if not include_protected and board is not None and board.model.privacy == "PROTECTED":
                return False
            pin = self._pins.get(pin_id)
            if exclude_repins and pin is not None and pin.parent_pin_id:
                return False
            kind = pin.creative_type if pin is not None else "REGULAR"
            return wanted is None or kind in wanted

        return keep

    def pin_matcher(self, query: str) -> PinFilter:
        """A predicate for pin search: the query, case-insensitively, in the title, description or alt text."""
        needle = query.casefold()

        def matches(pin_id: int) -> bool:
            pin = self._pins.get(pin_id)
            if pin is not None:
                texts: Iterable[str | None] = (pin.title, pin.description, pin.alt_text)
            else:
                block = self._block_of(pin_id)
                texts = seeded_text(block.ordinal + pin_id - block.first) if block is not None else ()
            return any(needle in text.casefold() for text in texts if text)

        return matches

    # -- media ---------------------------------------------------------------------------------------------

    def register_media(self, media_type: str) -> _Media:
        media_id = next(self._ids)
        media = _Media(
            media_id, media_type, f"uploads/simulated/{media_id}:{media_type}:{secrets.token_hex(8)}"
        )
        self._media[media_id] = self._media_by_key[media.key] = media
        return media

    def media_uploaded(self, key: str) -> None:
        """Called by the S3 endpoint: the upload for ``key`` arrived, so processing starts now."""
        media = self._media_by_key.get(key)
        if media is not None and media.uploaded_at is None:
            media.uploaded_at = self.clock()

    def fail_media(self, media_id: str) -> None:
        """Make this media's processing end in ``failed`` instead of ``succeeded``."""
        self._get_media(media_id).fails = True

    def _get_media(self, media_id: str | int) -> _Media:
        media = self._media.get(_number(media_id))
        if media is None:
            raise not_found("Media", media_id)
        return media

    def _media_status(self, media: _Media) -> str:
        if media.uploaded_at is None:
            return "registered"
        if self.clock() < media.uploaded_at + self.media_processing_delay:
            return "processing"
        return "failed" if media.fails else "succeeded"

    def media(self, media_id: str | int) -> models.Media:
        media = self._get_media(media_id)
        return models.Media(
            media_id=str(media.id), media_type=media.media_type, status=self._media_status(media)
        )

    def media_ids(self, after: int) -> Iterator[int]:
        return (media_id for media_id in self._media if media_id > after)


def _number(identifier: str | int) -> int:
    """An id from a path or body; one that is not a number names nothing (so: not found, not a crash)."""
    if isinstance(identifier, int):
        return identifier
    return int(identifier) if identifier.isdigit() else -1


def _insort_once(ids: list[int], value: int) -> None:
    index = bisect.bisect_left(ids, value)
    if index == len(ids) or ids[index] != value:
        ids.insert(index, value)
