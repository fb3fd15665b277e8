"""The application factory: ``create_app(settings)`` assembles the Litestar app."""

from __future__ import annotations

import functools
import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Tag
from litestar.types import Scope

from learning import __version__
from learning.accounts.auth import VerifiedTokens, build_jwt_auth
from learning.accounts.controllers import AuthController, MeController
from learning.accounts.deps import login_policy
from learning.admin.analytics import AdminAnalyticsController
from learning.admin.catalog import AdminCatalogController
from learning.admin.controllers import AdminUserController
from learning.admin.downloads import AdminDownloadController
from learning.attestations.controllers import AdminAttestationController, AttestationController, CredentialController
from learning.attestations.keys import instance_key
from learning.catalog.controllers import CatalogController
from learning.config import MediaDelivery as DeliveryMode
from learning.config import Settings, load_settings
from learning.db.session import DatabaseLimits, create_engine, create_sessionmaker, libpq_url
from learning.edge import ACCOUNTS, Edge
from learning.feeds.controllers import (
    FeedTokenController,
    feed_preflight,
    module_feed,
    private_media,
    private_module_feed,
    series_feed,
)
from learning.health.controllers import HealthController
from learning.jobs.worker import job_runner
from learning.lib.api_reference import ApiReferencePage, api_reference_router
from learning.lib.deps import provide_db_session
from learning.lib.errors import EXCEPTION_HANDLERS
from learning.lib.fairness import ClientShare
from learning.lib.json_bodies import bounded_request_class
from learning.lib.logging import RequestLogMiddleware
from learning.lib.openapi import document_problems
from learning.lib.proxies import ForwardedHeaders
from learning.lib.ratelimit import Refusals
from learning.me.controllers import AccountController
from learning.media.controllers import media_preflight, serve_media
from learning.media.delivery import count_download, presigned_location
from learning.media.downloads import DownloadRecorder
from learning.podsync.controllers import (
    AppPasswordController,
    GpodderSyncController,
    GpodnetController,
    LoginFlowController,
)
from learning.progress.controllers import EnrollmentController, ProgressController, XapiController
from learning.progress.events import xapi_pacing
from learning.progress.xapi import Checkpoints
from learning.quizzes.controllers import AttemptController, QuizController
from learning.registrations.controllers import (
    AdminRegistrationController,
    RegistrationController,
    UnregisterLinkController,
)  # fmt: skip
from learning.storage import StorageUnavailable, create_object_store
from learning.storage.local import LocalStore
from learning.uploads.controllers import BASE as UPLOADS_PATH
from learning.uploads.controllers import UploadController
from learning.uploads.sidefile_controllers import SideFileController
from learning.web import negotiated_error, template_config, web_routes
from learning.web.security import SecurityHeaders

logger = logging.getLogger("learning.app")


GC_YOUNG_THRESHOLD = 50_000
# A thread running Python (building an xAPI page off the loop) hands the GIL to the event loop after this
# long at most; CPython's 5 ms default added up to 5 ms to every other request meanwhile (issue 17).
GIL_SWITCH_SECONDS = 0.001


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; the lifespan opens and closes the database engine and the object store."""
    settings = settings or load_settings()
    database_url = settings.require_database_url()
    store = create_object_store(settings)
    downloads = DownloadRecorder()
    redirect = settings.media_delivery is DeliveryMode.REDIRECT and store.supports_presigned_urls
    edge = Edge(
        enabled=settings.edge,
        # Ranges are answered from memory only for local files served by the app itself.
        media_store=store if isinstance(store, LocalStore) and not redirect else None,
        presign=functools.partial(presigned_location, store, settings.presign_ttl_seconds) if redirect else None,
        count_download=functools.partial(count_download, downloads),
        cors=bool(settings.cors_origins),
        max_bytes=settings.answer_cache_max_bytes,
    )
    verified_tokens = VerifiedTokens(listening=lambda: edge.hub.active)
    edge.hub.subscribe(ACCOUNTS, verified_tokens.invalidate)
    jwt_auth = build_jwt_auth(secret=settings.signing_key(), lifetime_seconds=settings.token_lifetime_seconds)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = create_engine(
            database_url, pool_size=settings.database_pool_size, max_overflow=0, limits=database_limits(settings)
        )
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        await edge.hub.start(libpq_url(database_url))
        await downloads.start(app.state.sessionmaker)
        try:
            await store.open()
        except StorageUnavailable as exc:  # readiness reports it; the app still serves what it can
            logger.warning("object store not ready at start-up: %s", exc)
        jobs = job_runner(settings, app.state.sessionmaker, store) if settings.jobs_in_process else None
        if jobs is not None:
            await jobs.start()
        settle_garbage_collector()
        try:
            yield
        finally:
            if jobs is not None:
                await jobs.stop()
            await downloads.stop()  # it writes what it still holds
            await edge.hub.stop()
            await store.close()
            await engine.dispose()
            app.state.login_policy.hashing.close()

    app = Litestar(
        route_handlers=[
            HealthController,
            AuthController,
            MeController,
            EnrollmentController,
            RegistrationController,
            AccountController,
            UnregisterLinkController,
            AdminRegistrationController,
            ProgressController,
            XapiController,
            QuizController,
            AttemptController,
            CatalogController,
            AdminUserController,
            AdminCatalogController,
            AdminDownloadController,
            AdminAnalyticsController,
            AttestationController,
            AdminAttestationController,
            CredentialController,
            UploadController,
            SideFileController,
            # The CORS preflights before their GET/HEAD handlers: registered after, they would clash with the
            # OPTIONS handler Litestar adds to a path that has none.
            media_preflight,
            feed_preflight,
            serve_media,
            series_feed,
            module_feed,
            private_module_feed,
            private_media,
            FeedTokenController,
            AppPasswordController,
            LoginFlowController,
            GpodderSyncController,
            GpodnetController,
            ping,
            *web_routes(settings),  # the pages: cookie sessions, CSRF-checked forms, CSP (learning/web)
        ],
        dependencies={"db_session": Provide(provide_db_session)},
        # A browser asking for an address nobody serves gets the French error page (learning/web).
        exception_handlers={
            **EXCEPTION_HANDLERS,
            NotFoundException: negotiated_error,
            MethodNotAllowedException: negotiated_error,
        },
        lifespan=[lifespan],
        on_app_init=[jwt_auth.on_app_init],
        template_config=template_config(),
        state=_initial_state(settings, store, jwt_auth, edge, verified_tokens, downloads),
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        request_max_body_size=settings.max_request_body_bytes,
        request_class=bounded_request_class(settings.json_max_depth),
        openapi_config=OpenAPIConfig(
            title="learning",
            version=__version__,
            description="Courses and webinar series, their media, podcast feeds and learner progress. The shipped "
            "content is an educational reconstitution, written from Le RAMEAU's published account of its research, "
            "of the MOOC « Les alliances qui changent les territoires » and of the 2019 webinars of « L’innovation "
            "territoriale en actions ! »; neither Le RAMEAU nor ESSEC wrote it.",
            tags=[
                Tag(name=name) for name in ("catalog", "media", "progress", "accounts", "admin", "uploads", "health")
            ],
            path="/schema",
            openapi_router=api_reference_router("/schema"),
            render_plugins=[ApiReferencePage()],  # our own page: no third-party script on our origin
        ),
        logging_config=None,  # logging is configured once by the CLI or the worker entry point
        debug=False,
    )
    document_problems(app)
    edge.learn_routes(app)
    shared = ClientShare(
        edge.wrap(app.asgi_handler),
        concurrency=settings.client_concurrency,
        wait_seconds=settings.client_wait_seconds,
        waiting_limit=settings.client_waiting_limit,
        exempt=_streams_its_body,
    )
    app.asgi_handler = RequestLogMiddleware(SecurityHeaders(shared, settings))
    if settings.trusted_proxies:  # the client behind a trusted proxy, for everything after (lib/proxies.py)
        app.asgi_handler = ForwardedHeaders(app.asgi_handler, settings.trusted_proxies)
    return app


def _streams_its_body(scope: Scope) -> bool:
    """A tus PATCH may stream its body for minutes: not counted among its client's requests worked on."""
    return scope.get("method") == "PATCH" and str(scope.get("path", "")).startswith(UPLOADS_PATH + "/")


@get("/api/v1/ping", operation_id="Ping", exclude_from_auth=True, tags=["health"], opt={"no_database": True})
async def ping() -> dict[str, str]:
    """A trivial JSON route: the baseline of the benchmarks."""
    return {"status": "ok"}


def settle_garbage_collector() -> None:
    """Once the app is built and started: what start-up made lives as long as the process, so it leaves the
    cyclic collector's generations (``gc.freeze``), and the youngest generation is collected every 50,000
    allocations instead of 700. Decoding a page of rows allocates many objects at once: with the defaults,
    collections triggered on the event loop, each walking every long-lived object, took 40 % of the GIL
    during an xAPI export (issue 17). And a thread holding the GIL gives it back to the loop within
    ``GIL_SWITCH_SECONDS``."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    sys.setswitchinterval(GIL_SWITCH_SECONDS)


def database_limits(settings: Settings) -> DatabaseLimits:
    return DatabaseLimits(
        statement_timeout_ms=settings.database_statement_timeout_ms,
        lock_timeout_ms=settings.database_lock_timeout_ms,
        pool_timeout_seconds=settings.database_pool_timeout_seconds,
        connect_timeout_seconds=settings.database_connect_timeout_seconds,
    )


def _initial_state(
    settings: Settings,
    store: object,
    jwt_auth: object,
    edge: Edge,
    verified_tokens: VerifiedTokens,
    downloads: DownloadRecorder,
) -> State:
    return State(
        {
            "settings": settings,
            "edge": edge,
            "verified_tokens": verified_tokens,
            "downloads": downloads,
            "store": store,
            "jwt_auth": jwt_auth,
            "login_policy": login_policy(settings),
            "refusals": Refusals(),  # what PostgreSQL refused until when: lib/ratelimit.py
            "xapi_checkpoints": Checkpoints(),  # where xAPI export pages ended: progress/xapi.py
            "xapi_pacing": xapi_pacing(settings),  # each caller's pace through xAPI exports: lib/pacing.py
            "credential_key": instance_key(settings),  # signs attestation credentials: attestations/keys.py
        }
    )


def app_from_environment() -> Litestar:
    """Entry point for server worker processes: settings come from the environment the CLI prepared."""
    from learning.lib.logging import configure_logging
    from learning.lib.memory import keep_large_buffers

    settings = load_settings()
    configure_logging(settings.log_level)
    keep_large_buffers()
    return create_app(settings)
