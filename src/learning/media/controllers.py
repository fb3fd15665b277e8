"""``GET|HEAD /media/{asset_id}/{name}.{ext}``: the stable enclosure URL of every replay and lesson media
(the answer itself is built in ``learning.media.responses``), and its ``OPTIONS`` (CORS preflight)."""

from __future__ import annotations

from typing import Any

from litestar import HttpMethod, Request, Response, route
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from learning.edge.respond import preflight, respond
from learning.media.delivery import MediaDelivery
from learning.media.deps import provide_media_delivery
from learning.media.responses import MEDIA_REQUEST_HEADERS, MEDIA_RESPONSES, respond_with_media

MEDIA_PATH = "/media/{asset_id:uuid}/{filename:str}"


@route(
    MEDIA_PATH,
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    operation_id=lambda _handler, method, _path: f"{method.title()}Media",  # GetMedia, HeadMedia
    tags=["media"],
    exclude_from_auth=True,
    dependencies={"delivery": Provide(provide_media_delivery, sync_to_thread=False)},
    responses=MEDIA_RESPONSES,
    opt={"problems": [404, 412, 416, 503], "request_headers": MEDIA_REQUEST_HEADERS},
    include_in_schema=True,
)
async def serve_media(
    request: Request[Any, Any, Any],
    asset_id: FromPath[Any],
    filename: FromPath[str],
    delivery: NamedDependency[MediaDelivery],
    state: State,
) -> Response[Any]:
    """A media file: byte ranges (206), conditional requests (304/412), HEAD; or a redirect to storage."""
    return respond_with_media(request, state, await delivery.find(asset_id, filename))


@route(MEDIA_PATH, http_method=[HttpMethod.OPTIONS], exclude_from_auth=True, include_in_schema=False)
async def media_preflight() -> Response[Any]:
    """What browser players on other origins may ask of a public media file (transcripts, chapters too)."""
    return respond(preflight())
