"""Bodies of the learner progress API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import msgspec

from learning.db import models as m


class EnrollmentCreate(msgspec.Struct, forbid_unknown_fields=True):
    module: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120)]


class EnrollmentRead(msgspec.Struct):
    module: str
    title: str
    registration: uuid.UUID
    status: m.EnrollmentStatus
    enrolled_at: datetime
