"""Translate Mautic's segment filter list into a Tidings segment definition, and back.

Pure translation: no database, no import of the segments app. What needs the workspace (is this a
field, which tag a Mautic tag id names) is asked of the ``lookup`` the caller passes in; the
result is then checked by the segments app (definition_check) like any native definition.

Facts read from Mautic 5 (not copied; see docs/decisions/0016-mautic-segment-filters.md):

- A filter is ``{glue, field, object, type, operator, properties: {filter, display}, filter, display}``;
  the value is ``properties.filter``, falling back to the older top-level ``filter``.
- Glue: the filters form a disjunctive normal form. The first filter's glue is ignored, every
  later ``or`` starts a new AND-group, so ``a and b or c and d`` is ``(a AND b) OR (c AND d)``.
- Behaviour filters on other tables (page hits, email stats, downloads, tags) are existence tests:
  the positive operators mean "has a row matching", the negative ones (``!=``, ``!in``, ``!like``)
  "has no row matching", and ``empty``/``!empty`` "has no row / has a row" whatever the value.
- Date values may be relative: "today", "yesterday", "anniversary" (or "birthday"), "-7 days",
  "7 days ago", or calendar periods ("last week", "this month") that Tidings cannot express.

Errors are ``ValidationError({"filters.3.field": [...]})``; no message repeats a value the
client sent (filters may search personal data).
"""

from tidings.mautic_compat.segment_filters.reading import from_mautic
from tidings.mautic_compat.segment_filters.vocabulary import PASS_THROUGH, FilterLookup
from tidings.mautic_compat.segment_filters.writing import to_mautic

__all__ = ["PASS_THROUGH", "FilterLookup", "from_mautic", "to_mautic"]
