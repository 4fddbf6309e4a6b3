"""The export streams, declared as data: which operation, under which parent, keyed how, windowed how.

A stream's items come from one operation. A child stream runs once per item of its ``parent`` stream (every
board, every ad account, ...): the parent's ids fill the operation's path parameters by name, through the
context each parent item ``provides`` (``board_id``, ``ad_account_id``, ...). A batched stream gives the ids of
``ids_from``'s items ``batch`` at a time in one parameter (100 Pins per ``multi_pins/analytics`` request). A dated
stream is fetched in date windows the API accepts, from ``--since`` to ``--until``.

How a response becomes items is its ``shape``:

- ``pages``: a paginated list; every page's ``items``;
- ``items``: a single response with an ``items`` array (no bookmark);
- ``object``: the response is the one item;
- ``rows``: the response is an array of rows (the ads analytics endpoints);
- ``daily``: ``{"all": {"daily_metrics": [...]}}``, one item per day (user account analytics);
- ``daily_by_id``: ``{"<id>": {"all": {"daily_metrics": [...]}}}``, one item per id and day, with the id added
  (multi-Pin analytics).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

Shape = Literal["pages", "items", "object", "rows", "daily", "daily_by_id"]

# Metrics asked of the organic analytics endpoints: those every account has, in the order Pinterest lists them.
USER_METRICS: Final = (
    "IMPRESSION",
    "OUTBOUND_CLICK",
    "PIN_CLICK",
    "SAVE",
    "SAVE_RATE",
    "ENGAGEMENT",
    "ENGAGEMENT_RATE",
)
PIN_METRICS: Final = ("IMPRESSION", "OUTBOUND_CLICK", "PIN_CLICK", "SAVE", "SAVE_RATE")
# Columns asked of the ads analytics endpoints and reports (Airbyte's defaults, less the conversion columns an
# account without a tag reports as errors).
AD_COLUMNS: Final = (
    "SPEND_IN_MICRO_DOLLAR",
    "PAID_IMPRESSION",
    "TOTAL_CLICKTHROUGH",
    "TOTAL_IMPRESSION",
    "TOTAL_ENGAGEMENT",
    "CTR",
    "CPC_IN_MICRO_DOLLAR",
    "CPM_IN_MICRO_DOLLAR",
)
# The synchronous analytics endpoints answer for the last 90 days, in spans of at most 90 days.
SYNC_DAYS_BACK: Final = 90
WINDOW_DAYS: Final = 90


@dataclass(frozen=True, slots=True)
class Batch:
    """The ids of ``ids_from``'s items, ``size`` at a time, in the query parameter ``parameter``."""

    ids_from: str
    parameter: str
    size: int


@dataclass(frozen=True, slots=True)
class Stream:
    """One exportable stream (see the module documentation).

    provides: the context key this stream's item ``id`` becomes for its children.
    parent_fields: item field -> context key, added to each item that lacks the field (a section's
        ``board_id``), so that every line says where it came from.
    key: the field that identifies an item (its own ``id`` where the API gives one).
    query: fixed query parameters of every request (metrics, columns, granularity).
    report_level: for ads analytics, the ``level`` of the asynchronous report used for windows older than the
        synchronous endpoints reach.
    columns: for items that are free-form mappings (analytics rows), the columns of CSV and Parquet output,
        as (name, type) pairs; structs have their columns from the spec's schema.
    total_field: a field of the parent item that counts this stream's items under it (a board's
        ``pin_count``), for progress ETAs.
    """

    name: str
    operation: str
    shape: Shape
    description: str
    parent: str | None = None
    provides: str | None = None
    parent_fields: Mapping[str, str] = field(default_factory=dict)
    key: str = "id"
    batch: Batch | None = None
    dated: bool = False
    query: Mapping[str, object] = field(default_factory=dict)
    report_level: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    total_field: str | None = None


def _ads_analytics(name: str, operation: str, level: str, id_column: str, batch: Batch | None) -> Stream:
    return Stream(
        name,
        operation,
        "rows",
        f"{level.lower().replace('_', ' ')} analytics by day",
        parent="ad_accounts",
        key=f"{id_column}+DATE",
        batch=batch,
        dated=True,
        query={"columns": list(AD_COLUMNS), "granularity": "DAY"},
        report_level=level,
        columns=((id_column, "string"), ("DATE", "string"), *((c, "float") for c in AD_COLUMNS)),
    )


def _per_ad_account(name: str, operation: str, description: str, provides: str | None = None) -> Stream:
    return Stream(
        name,
        operation,
        "pages" if name != "conversion_tags" else "items",
        description,
        parent="ad_accounts",
        provides=provides,
        parent_fields={"ad_account_id": "ad_account_id"},
    )


STREAMS: Final[Mapping[str, Stream]] = {
    stream.name: stream
    for stream in (
        Stream("user_account", "user_account/get", "object", "the account of the token", key="username"),
        Stream(
            "user_account_analytics",
            "user_account/analytics",
            "daily",
            "the account's organic metrics by day",
            key="date",
            dated=True,
            query={"metric_types": list(USER_METRICS)},
            columns=(
                ("date", "string"),
                ("data_status", "string"),
                *((f"metrics.{m}", "float") for m in USER_METRICS),
            ),
        ),
        Stream("boards", "boards/list", "pages", "the account's boards", provides="board_id"),
        Stream(
            "board_sections",
            "board_sections/list",
            "pages",
            "the sections of every board",
            parent="boards",
            provides="section_id",
            parent_fields={"board_id": "board_id"},
        ),
        Stream(
            "board_pins",
            "boards/list_pins",
            "pages",
            "the Pins of every board",
            parent="boards",
            parent_fields={"board_id": "board_id"},
            total_field="pin_count",
        ),
        Stream(
            "board_section_pins",
            "board_sections/list_pins",
            "pages",
            "the Pins of every board section",
            parent="board_sections",
            parent_fields={"board_id": "board_id", "board_section_id": "section_id"},
        ),
        Stream("pins", "pins/list", "pages", "the account's Pins", provides="pin_id"),
        Stream(
            "pin_analytics",
            "multi_pins/analytics",
            "daily_by_id",
            "every Pin's metrics by day, 100 Pins a request",
            key="pin_id+date",
            batch=Batch("pins", "pin_ids", 100),
            dated=True,
            query={"metric_types": list(PIN_METRICS)},
            columns=(
                ("pin_id", "string"),
                ("date", "string"),
                ("data_status", "string"),
                *((f"metrics.{m}", "float") for m in PIN_METRICS),
            ),
        ),
        Stream(
            "ad_accounts",
            "ad_accounts/list",
            "pages",
            "the ad accounts the token can see",
            provides="ad_account_id",
        ),
        _per_ad_account("campaigns", "campaigns/list", "the campaigns of every ad account", "campaign_id"),
        _per_ad_account("ad_groups", "ad_groups/list", "the ad groups of every ad account", "ad_group_id"),
        _per_ad_account("ads", "ads/list", "the ads of every ad account", "ad_id"),
        _ads_analytics("ad_account_analytics", "ad_account/analytics", "ADVERTISER", "AD_ACCOUNT_ID", None),
        _ads_analytics(
            "campaign_analytics",
            "campaigns/analytics",
            "CAMPAIGN",
            "CAMPAIGN_ID",
            Batch("campaigns", "campaign_ids", 250),
        ),
        _ads_analytics(
            "ad_group_analytics",
            "ad_groups/analytics",
            "AD_GROUP",
            "AD_GROUP_ID",
            Batch("ad_groups", "ad_group_ids", 250),
        ),
        _ads_analytics("ad_analytics", "ads/analytics", "AD", "AD_ID", Batch("ads", "ad_ids", 250)),
        _per_ad_account("audiences", "audiences/list", "the audiences of every ad account"),
        _per_ad_account("keywords", "keywords/get", "the keywords of every ad account"),
        _per_ad_account("conversion_tags", "conversion_tags/list", "the conversion tags of every ad account"),
        _per_ad_account("customer_lists", "customer_lists/list", "the customer lists of every ad account"),
        Stream("catalogs", "catalogs/list", "pages", "the account's catalogs"),
        Stream("catalogs_feeds", "feeds/list", "pages", "the feeds of the account's catalogs"),
        Stream(
            "catalogs_product_groups", "catalogs_product_groups/list", "pages", "the catalogs' product groups"
        ),
    )
}


def lineage(stream: Stream) -> list[Stream]:
    """The stream's ancestors, root first, then the stream itself."""
    chain = [stream]
    while chain[0].parent is not None:
        chain.insert(0, STREAMS[chain[0].parent])
    return chain
