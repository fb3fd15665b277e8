"""A file's keys as a ``front_matter`` model, or every problem recorded with the line of its key."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from learning.catalog.content.documents import Document

Model = TypeVar("Model", bound=msgspec.Struct)

# Where msgspec says the problem is: "… - at `$.speakers[1].role`", or a key it names.
_AT = re.compile(r"`\$\.(\w+)([^`]*)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`$")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`$")


def convert(document: Document, model: type[Model]) -> Model | None:
    """``document`` as ``model``; None once each problem is recorded with the line of its key.

    An empty key counts as absent. msgspec stops at the first problem: to report them all in one run,
    the key at fault is set aside and the conversion tried again (each try removes a key, so it ends).
    """
    fields = _fields(model)
    values: dict[str, Any] = {}
    for key, value in document.values.items():
        if not isinstance(key, str):  # YAML reads `1:` or `yes:` as a number or a boolean
            if model.__struct_config__.forbid_unknown_fields:
                document.error(str(key), f"unknown key '{key}'")
        elif value is not None or key not in fields:
            values[key] = value
    set_aside: set[str] = set()
    while True:
        try:
            converted = msgspec.convert(values, model, builtin_types=(datetime, date))
        except msgspec.ValidationError as exc:
            problem = str(exc)
            if _MISSING.match(problem):
                # Every key present is valid by now: the required ones still absent are all missing.
                for field in fields.values():
                    if field.required and field.name not in values and field.name not in set_aside:
                        document.error(None, f"missing required key '{field.name}'")
                return None
            if unknown := _UNKNOWN.match(problem):
                key = unknown.group(1)
                document.error(key, f"unknown key '{key}'")
            elif (at := _AT.search(problem)) and at.group(1) in values:
                key = at.group(1)
                annotation = fields[key].type
                document.error(key, _explain(key, annotation, values[key], problem, within=bool(at.group(2))))
            else:  # not a shape this module knows: msgspec's own words, rather than nothing
                document.error(None, problem)
                return None
            set_aside.add(key)
            del values[key]
        else:
            return None if set_aside else converted


@cache
def _fields(model: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    return {field.encode_name: field for field in msgspec.structs.fields(model)}


def _explain(key: str, annotation: Any, value: Any, problem: str, *, within: bool) -> str:
    """What is wrong with ``value`` for ``key``, in the words of the constraint it breaks.

    ``within``: the problem is inside the value (an item of a list), not the value itself.
    """
    info = mi.type_info(annotation)
    if isinstance(info, mi.UnionType):  # `X | None`: None never gets here, an empty key counts as absent
        info = next(t for t in info.types if not isinstance(t, mi.NoneType))
    if isinstance(info, mi.Metadata):
        extra = info.extra or {}
        message = extra.get("item_error" if within else "error", extra.get("error"))
        if message is not None:
            return str(message).format(key=key)
        info = info.type
    if isinstance(info, mi.LiteralType):
        return f"'{key}' must be one of {', '.join(sorted(map(str, info.values)))}, not {value!r}"
    if isinstance(info, mi.StrType):
        too_long = info.max_length is not None and isinstance(value, str) and len(value) > info.max_length
        if too_long and value.strip():
            return f"'{key}' is longer than {info.max_length} characters"
        return f"'{key}' must be a non-empty text"
    if isinstance(info, mi.IntType):
        return f"'{key}' must be a whole number ≥ {info.ge}"
    if isinstance(info, mi.FloatType):
        return f"'{key}' must be a number in ({info.gt:g}, {info.le:g}]"
    if isinstance(info, mi.DateTimeType):
        if isinstance(value, datetime):
            return f"'{key}' needs a UTC offset, e.g. 2019-01-24T11:00:00+01:00"
        if isinstance(value, date):
            return f"'{key}' needs a time and a UTC offset, not only a date"
        return f"'{key}' is not a date and time: {value!r}"
    return f"'{key}': {problem.split(' - at ')[0]}"
