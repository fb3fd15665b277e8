"""Documents the problem+json error responses of every operation in the OpenAPI document.

Run once on the assembled app: what each operation can answer follows from its shape (parameters,
body, authentication, guards) plus the codes its handler declares in ``opt["problems"]``. It also
documents what Litestar leaves out: that public operations need no token (``security: []`` under the
document's global bearer requirement), that JSON bodies refuse unknown fields, and what handlers that
read the raw request declare in ``opt``: ``request_headers`` (header parameters), ``request_body`` (a
raw body) and ``media_types`` (the media types a success status comes in, when there are several).
Bounds that are settings (``from_settings``) are documented with the values of the app's settings, and
tagged unions of bodies (``oneOf``) name their tag as the ``discriminator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Discriminator,
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)
from litestar.plugins import OpenAPISchemaPlugin, OpenAPISchemaPluginProtocol
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from learning.config import Settings
from learning.lib.errors import PROBLEM_JSON, _phrase
from learning.lib.guards import takes_json_body

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_spec(status: int, description: str | None = None) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=description or _phrase(status),
        generate_examples=False,
    )


def _codes_for(handler: HTTPRouteHandler, path: str) -> set[int]:
    codes: set[int] = set(handler.opt.get("problems", ()))
    has_body = "data" in handler.parsed_fn_signature.parameters
    if not handler.opt.get("no_database"):
        codes.add(400)  # query or header parameters may come from dependencies too
    if has_body:
        codes.update({400, 413, 422})
    if takes_json_body(handler):
        codes.add(415)
    if "{" in path:
        codes.add(404)
    if not handler.opt.get("exclude_from_auth"):
        codes.add(401)
    if handler.resolve_guards():
        codes.update({401, 403})
    if not handler.opt.get("no_database"):
        codes.add(503)
    return codes


# PostgreSQL cannot store NUL in text: a stored text field that holds one is a 400 (lib/errors.py). The
# pattern documents that on such fields (``Meta(extra_json_schema=STORABLE_TEXT)``); msgspec does not
# enforce it, so the answer stays the same 400.
STORABLE_TEXT: dict[str, Any] = {"extra": {"pattern": "^[^\\x00]*$"}}


def request_header(name: str, schema: Schema, description: str, *, required: bool = False) -> Parameter:
    """A request header a handler reads itself, for ``opt["request_headers"]``."""
    return Parameter(name=name, param_in="header", schema=schema, description=description, required=required)


def raw_body(*media_types: str, description: str, required: bool = True) -> RequestBody:
    """A body a handler streams itself (any bytes, in one of ``media_types``), for ``opt["request_body"]``."""
    binary = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    content = {media_type: OpenAPIMediaType(schema=binary) for media_type in media_types}
    return RequestBody(content=content, description=description, required=required)


def _text_header(name: str, description: str) -> Parameter:
    return request_header(name, Schema(type=OpenAPIType.STRING), description)


# Conditional GET (RFC 9110 §13.1): what routes with an ETag (and a Last-Modified date) honour.
IF_NONE_MATCH = _text_header("If-None-Match", "ETags the client holds (or ``*``): 304 when one still matches.")
IF_MODIFIED_SINCE = _text_header(
    "If-Modified-Since", "An HTTP date: 304 when nothing changed since (ignored with If-None-Match)."
)
# Preconditions (RFC 9110 §13.1.1, §13.1.4): every answer with an ETag honours them (412).
PRECONDITION_HEADERS: tuple[Parameter, ...] = (
    _text_header("If-Match", "ETags (or ``*``): 412 unless the representation has one of them."),
    _text_header("If-Unmodified-Since", "An HTTP date: 412 if the representation changed since."),
)
CONDITIONAL_HEADERS: tuple[Parameter, ...] = (IF_NONE_MATCH, IF_MODIFIED_SINCE, *PRECONDITION_HEADERS)
# Byte ranges (RFC 9110 §14), on routes that serve files.
RANGE_HEADERS: tuple[Parameter, ...] = (
    _text_header("Range", "``bytes=first-last``, ``bytes=first-``, ``bytes=-suffix``, or several comma-separated."),
    _text_header("If-Range", "An ETag or an HTTP date: the range only if the file is still that one."),
)


def no_content(description: str) -> ResponseSpec:
    """A documented answer without a body (a 304 or a redirect)."""
    return ResponseSpec(None, description=description, generate_examples=False)


def _operation_class(handler: HTTPRouteHandler) -> type[Operation]:
    """The handler's ``Operation`` completed with what Litestar cannot infer from its signature."""
    public = bool(handler.opt.get("exclude_from_auth"))
    headers: list[Parameter] = list(handler.opt.get("request_headers", ()))
    body: RequestBody | None = handler.opt.get("request_body")
    alternatives: dict[int, tuple[str, ...]] = dict(handler.opt.get("media_types", {}))
    discriminator = _discriminator(handler)
    if not (public or headers or body or alternatives or discriminator):
        return handler.operation_class

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if public:  # Litestar renders an empty handler-level list as no ``security`` at all
                self.security = []
            if headers:
                self.parameters = [*(self.parameters or ()), *headers]
            if body is not None:
                self.request_body = body
            if discriminator and isinstance(self.request_body, RequestBody):
                for media_type in self.request_body.content.values():
                    if isinstance(media_type.schema, Schema) and media_type.schema.one_of:
                        media_type.schema.discriminator = discriminator
            for status, media_types in alternatives.items():
                response = (self.responses or {}).get(str(status))
                if isinstance(response, OpenAPIResponse) and response.content:
                    schema = next(iter(response.content.values())).schema
                    response.content = {media_type: OpenAPIMediaType(schema=schema) for media_type in media_types}

    return DocumentedOperation


_FROM_SETTINGS = "learning.from_settings"


def from_settings(**bounds: str) -> dict[str, Any]:
    """``msgspec.Meta(extra=from_settings(min_length="password_min_length"))``: a bound the service checks
    against a setting, documented with the value the app was built with (msgspec does not enforce it)."""
    return {_FROM_SETTINGS: bounds}


def _discriminator(handler: HTTPRouteHandler) -> Discriminator | None:
    """The discriminator of a body that is a union of msgspec structs tagged on one field (``tag_field=``):
    Litestar documents such a union as a ``oneOf`` of their schemas, without naming the tag."""
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None or not data.is_union:
        return None
    configs = [getattr(arg, "__struct_config__", None) for arg in data.args]
    fields = {config.tag_field if config else None for config in configs}
    if len(fields) != 1 or None in fields:
        return None
    mapping = {
        str(config.tag): f"#/components/schemas/{arg.__name__}"
        for arg, config in zip(data.args, configs, strict=True)
        if config
    }
    return Discriminator(property_name=str(fields.pop()), mapping=mapping)


class StrictStructSchemaPlugin(OpenAPISchemaPlugin):
    """Request bodies declared with ``forbid_unknown_fields`` say so (``additionalProperties: false``)
    and document every constraint msgspec enforces on them, and the bounds that are settings. The schema
    itself is built by the plugin that would have built it; this one only adds what that plugin left out."""

    def __init__(self, others: tuple[OpenAPISchemaPluginProtocol, ...], settings: Settings) -> None:
        self._others = others
        self._settings = settings

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        config = getattr(field_definition.type_, "__struct_config__", None)
        return bool(config and config.forbid_unknown_fields) and self._builder(field_definition) is not None

    def _builder(self, field_definition: FieldDefinition) -> OpenAPISchemaPlugin | None:
        for plugin in self._others:
            if isinstance(plugin, OpenAPISchemaPlugin) and plugin.is_plugin_supported_field(field_definition):
                return plugin
        return None

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        builder = self._builder(field_definition)
        if builder is None:  # is_plugin_supported_field checked there is one
            raise TypeError(f"no schema plugin for {field_definition.type_!r}")
        built: Schema | Reference = builder.to_openapi_schema(field_definition, schema_creator)
        schema = schema_creator.schema_registry.from_reference(built).schema if isinstance(built, Reference) else built
        schema.additional_properties = False
        _document_constraints(schema, field_definition.type_, self._settings)
        return built  # type: ignore[return-value]  # Litestar's own struct plugin answers a Reference too


# msgspec constraint → the Schema attribute that documents it, for numbers, strings and arrays.
_NUMBER_BOUNDS = {"ge": "minimum", "gt": "exclusive_minimum", "le": "maximum", "lt": "exclusive_maximum"}
_STRING_BOUNDS = {"min_length": "min_length", "max_length": "max_length", "pattern": "pattern"}
_ARRAY_BOUNDS = {"min_length": "min_items", "max_length": "max_items"}


def _document_constraints(schema: Schema, struct_type: Any, settings: Settings) -> None:
    """Copy each field's msgspec constraints that Litestar dropped (it skips zero bounds on optional
    fields, and every constraint of list items) onto the field's schema, and the bounds that are settings."""
    info = msgspec.inspect.type_info(struct_type)
    for field in getattr(info, "fields", ()):
        prop = (schema.properties or {}).get(field.encode_name)
        if isinstance(prop, Schema):
            _fill(prop, _without_none(field.type), settings)


def _fill(target: Schema, annotation: msgspec.inspect.Type, settings: Settings) -> None:
    configured: dict[str, str] = {}
    if isinstance(annotation, msgspec.inspect.Metadata):
        configured = (annotation.extra or {}).get(_FROM_SETTINGS, {})
        annotation = annotation.type
    if isinstance(annotation, msgspec.inspect.IntType | msgspec.inspect.FloatType):
        bounds = _NUMBER_BOUNDS
    elif isinstance(annotation, msgspec.inspect.StrType):
        bounds = _STRING_BOUNDS
    elif isinstance(annotation, msgspec.inspect.ListType):
        bounds = _ARRAY_BOUNDS
        for arm in [target, *(target.one_of or ()), *(target.any_of or ())]:
            if isinstance(arm, Schema) and isinstance(arm.items, Schema):
                _fill(arm.items, _without_none(annotation.item_type), settings)
    else:
        return
    for constraint, setting in configured.items():
        setattr(target, bounds[constraint], getattr(settings, setting))
    for constraint, attribute in bounds.items():
        value = getattr(annotation, constraint, None)
        if value is not None and getattr(target, attribute) is None:
            setattr(target, attribute, value)


def _without_none(annotation: msgspec.inspect.Type) -> msgspec.inspect.Type:
    if isinstance(annotation, msgspec.inspect.UnionType):
        arms = [t for t in annotation.types if not isinstance(t, msgspec.inspect.NoneType)]
        return arms[0] if len(arms) == 1 else annotation
    return annotation


def document_problems(app: Litestar) -> None:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.include_in_schema is False:
                continue
            specs = dict(handler.responses or {})
            for status in sorted(_codes_for(handler, route.path)):
                specs.setdefault(status, problem_spec(status))
            handler.responses = specs
            handler.operation_class = _operation_class(handler)
    # The OpenAPI document is built on first use, after this: the plugin is in place by then.
    settings: Settings = app.state["settings"]  # the values the services check against
    app.plugins.openapi = (StrictStructSchemaPlugin(app.plugins.openapi, settings), *app.plugins.openapi)
