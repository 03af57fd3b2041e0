"""Bounded number types for ninja schemas and parameters: a 64-bit id, not any integer pydantic reads.

pydantic takes integers of any size, and an id beyond 64 bits (or points beyond 32) then fails
in the database as a 500. Annotate with these instead of ``int``::

    class LinkIn(Schema):
        company_id: Id
        points: Int32 = 0
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tidings.inputs import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN

Id = Annotated[int, Field(ge=1, le=INT64_MAX)]
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
Order = Annotated[int, Field(ge=0, le=INT32_MAX)]  # a PositiveIntegerField position
