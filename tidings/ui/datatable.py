"""The data table of every list page: columns, server-side sort links, chosen columns, density, totals.

A page describes its columns once (Column) and builds a DataTable from the request's query
string and the member's saved choices; the template `web/_datatable.html` renders it:

    table = DataTable(columns=CONTACT_COLUMNS, query=request.GET, order="-last_active",
                      chosen=preference.columns if preference else None, density=...)
    {% include "web/_datatable.html" with table=table %}

Sorting is the server's: a sortable header is a link to the same page with ?sort=KEY (and
-KEY to reverse); a column that cannot be sorted (an encrypted one) is plain text whose title
says why. The behaviour in the browser (select all, the "all N matching" switch) is in
static/tidings/datatable.js; no inline script or style anywhere, for the CSP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.http import urlencode

ENCRYPTED_UNSORTABLE = "Stored encrypted, each contact under its own key, so the list cannot be sorted by it."


@dataclass(frozen=True)
class Column:
    """One column: key (stable, saved in preferences), label, and how it sorts.

    sort is the order key of the ascending sort (the descending one is "-" + sort) or "" when
    the column cannot be sorted; unsortable says why (shown as the header's title).
    """

    key: str
    label: str
    sort: str = ""
    unsortable: str = ""
    numeric: bool = False
    default: bool = True  # shown until the member chooses columns
    required: bool = False  # always shown (the row's link)
    first_descending: bool = False  # the first click sorts high to low (points, dates)


@dataclass(frozen=True)
class Header:
    column: Column
    url: str  # "" when not sortable
    aria_sort: str  # "ascending", "descending" or "" (not sorted by this column)
    next_direction: str  # what a click does, for the link's accessible name


@dataclass
class DataTable:
    """A list page's table state, built from the query string and the member's choices."""

    columns: Sequence[Column]
    query: Mapping[str, str]
    order: str
    chosen: Sequence[str] | None = None
    density: str = "comfortable"
    sort_param: str = "sort"
    reset_params: Sequence[str] = ("after",)  # cursors that a new sort invalidates
    rows: list = field(default_factory=list)
    # What the template needs besides the columns (all optional):
    id: str = "table"  # prefix of the element ids (two tables on a page need two)
    caption: str = ""
    noun: str = "rows"  # "contacts": the total reads "1,234 contacts"
    total: int | None = None
    total_exact: bool = True
    total_at_least: bool = False  # total is a lower bound (a capped count): "over N"
    row_template: str = ""  # renders the <tr>s of self.rows, one cell per column of self.visible
    bulk_template: str = ""  # the bulk action menu's controls (their form is f"{id}-bulk")
    bulk_url: str = ""  # where the bulk form posts; "" hides the checkboxes
    prefs_url: str = ""  # where the column chooser and density switch post; "" hides them
    row_actions: bool = False  # the rows end with a row action menu
    empty: dict = field(default_factory=dict)  # title, text, actions [(label, url)], clear_url

    @property
    def visible(self) -> list[Column]:
        """Return the columns shown: the member's choice (known keys, in the table's order) or the defaults."""
        chosen = set(self.chosen or ())
        shown = [c for c in self.columns if c.required or (c.key in chosen if self.chosen else c.default)]
        return shown or [c for c in self.columns if c.default]

    @property
    def visible_keys(self) -> set[str]:
        return {c.key for c in self.visible}

    @property
    def dense(self) -> bool:
        return self.density == "dense"

    def headers(self) -> list[Header]:
        """Return a Header per visible column: its sort link (the opposite direction when sorted by it)."""
        headers = []
        for column in self.visible:
            if not column.sort:
                headers.append(Header(column, "", "", ""))
                continue
            ascending, descending = column.sort, f"-{column.sort}"
            if self.order == ascending:
                aria, target = "ascending", descending
            elif self.order == descending:
                aria, target = "descending", ascending
            else:
                aria, target = "", descending if column.first_descending else ascending
            headers.append(
                Header(
                    column,
                    "?" + self._with(target),
                    aria,
                    "sort high to low" if target.startswith("-") else "sort low to high",
                )
            )
        return headers

    def _with(self, order: str) -> str:
        params = {k: v for k, v in self.query.items() if k not in self.reset_params and k != self.sort_param and v}
        params[self.sort_param] = order
        return urlencode(params)

    def choices(self) -> list[tuple[Column, bool]]:
        """Return every column with whether it is shown (the column chooser's checkboxes)."""
        keys = self.visible_keys
        return [(c, c.key in keys) for c in self.columns]

    @property
    def total_label(self) -> str:
        return "" if self.total is None else total_text(self.total, self.total_exact, at_least=self.total_at_least)

    @property
    def width(self) -> int:
        """Return how many cells a row has (for a full-width cell: "load more", an empty state)."""
        return len(self.visible) + bool(self.bulk_url) + bool(self.row_actions)


def total_text(value: int, exact: bool, *, at_least: bool = False) -> str:
    """Return a total as the list says it: "1,234", "over 10,000" or, estimated, "about 120,000" (two figures)."""
    if exact:
        return f"{value:,}"
    if at_least:
        return f"over {value:,}"
    digits = max(len(str(value)) - 2, 0)
    return f"about {round(value, -digits):,}"
