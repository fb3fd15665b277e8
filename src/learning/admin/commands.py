"""What the admin CLI commands do, over one transaction each."""

from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

from learning.accounts.deps import login_policy
from learning.accounts.repositories import UserRepository
from learning.accounts.services import AccountService
from learning.catalog import schemas as s
from learning.catalog.content import load_content
from learning.catalog.content.manifest import content_fingerprint
from learning.catalog.editing import CatalogEditor
from learning.catalog.repositories import CatalogRepository
from learning.catalog.services import CatalogService
from learning.catalog.sync import ContentSync, SyncReport, owner_warnings
from learning.config import Settings
from learning.db import models as m
from learning.db.session import create_engine, create_sessionmaker
from learning.lib.ratelimit import RateLimiter
from learning.media.library import MediaLibrary
from learning.media.repositories import MediaRepository
from learning.storage import ObjectNotFound, create_object_store


async def create_admin(settings: Settings, *, email: str, password: str) -> str:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    sessionmaker = create_sessionmaker(engine)
    try:
        async with sessionmaker.begin() as session:
            accounts = AccountService(UserRepository(session), RateLimiter(sessionmaker), login_policy(settings))
            existing = await accounts.find(email)
            if existing is not None:
                await accounts.set_role(existing, m.Role.ADMIN)
                return f"{existing.email} est maintenant administrateur (mot de passe inchangé)"
            user = await accounts.register(email=email, password=password, role=m.Role.ADMIN)
            return f"administrateur {user.email} créé"
    finally:
        await engine.dispose()


class _DryRun(Exception):
    """Raised to roll the transaction back at the end of a dry run."""


async def stored_manifest(settings: Settings) -> str | None:
    """The content fingerprint recorded by the last sync that wrote (None before the first)."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            return await CatalogRepository(session).manifest()
    finally:
        await engine.dispose()


async def sync_content(settings: Settings, root: Path, *, dry_run: bool = False) -> SyncReport:
    """Validate every content file, then apply them in one transaction (rolled back for a dry run), recording
    the content's fingerprint with them (``catalog/content/manifest.py``)."""
    fingerprint = content_fingerprint(root, settings)  # before reading: a file changed meanwhile syncs again
    bundle = load_content(root)  # raises ContentError before anything is written
    engine = create_engine(settings.require_database_url(), pool_size=1)
    store = create_object_store(settings)
    await store.open()
    report = SyncReport(warnings=owner_warnings(bundle.feeds, settings.feed_owner_email))
    try:
        try:
            async with create_sessionmaker(engine).begin() as session:
                library = MediaLibrary(MediaRepository(session), None if dry_run else store)
                catalog = CatalogRepository(session)
                await ContentSync(catalog, library, base_url=settings.base_url).apply(bundle, report)
                if dry_run:
                    raise _DryRun
                await catalog.record_manifest(fingerprint.digest, fingerprint.files)
        except _DryRun:
            return report
        except BaseException:
            for key in report.new_objects:  # nothing half-written: the rows were rolled back
                with contextlib.suppress(Exception):
                    await store.delete(key)
            raise
        for key in report.stale_objects:  # replaced files: the rows now point at the new objects
            with contextlib.suppress(ObjectNotFound):
                await store.delete(key)
        return report
    finally:
        await store.close()
        await engine.dispose()


async def feed_sources(settings: Settings) -> list[tuple[m.FeedKind, str]]:
    """(kind, slug) of the podcast feeds readers can fetch (their module or series is public), for the banner
    of `learning serve`."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            catalog = CatalogService(CatalogRepository(session), settings.base_url)
            modules, _ = await catalog.modules(limit=1000, offset=0)
            series, _ = await catalog.series_list(limit=1000, offset=0)
            public = {(m.FeedKind.MODULE, found.slug) for found in modules}
            public |= {(m.FeedKind.WEBINAR_SERIES, found.slug) for found in series}
            sources = [(source.kind, source.slug) for source in await catalog.feed_sources()]
            return [source for source in sources if source in public]
    finally:
        await engine.dispose()


async def episode(settings: Settings, kind: m.UploadTarget, target_id: uuid.UUID) -> s.Episode | None:
    """The webinar session or lesson an upload went to (drafts too), for `learning upload` to say where it is."""
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            editor = CatalogEditor(CatalogRepository(session))
            episodes = await (
                editor.session_episodes() if kind is m.UploadTarget.WEBINAR_SESSION else editor.lesson_episodes()
            )
            return next((found for found in episodes if found.id == target_id), None)
    finally:
        await engine.dispose()
