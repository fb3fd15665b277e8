"""Dependency providers of the admin endpoints (the services come from each domain's ``deps.py``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated

from litestar.params import QueryParameter


@dataclass(frozen=True, slots=True)
class PeriodQuery:
    start: dt.date | None
    end: dt.date | None


def provide_period(
    start: Annotated[dt.date | None, QueryParameter(name="from", description="First UTC day, inclusive")] = None,
    end: Annotated[dt.date | None, QueryParameter(name="to", description="Last UTC day, inclusive")] = None,
) -> PeriodQuery:
    return PeriodQuery(start=start, end=end)
