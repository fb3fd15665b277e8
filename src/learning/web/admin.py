"""The admin desk (admin role only): sessions and lessons with their replay state, publication (unpublishing
asks first, on a page of its own), retry of a failed job when retrying can help, the resumable upload page (tus,
in ``static/upload.js``) and a downloads chart per episode. The forms that create and edit sessions and modules
are in ``admin_editing``.

After an action the desk comes back at the row acted on (``#session-…``, ``#envoi-…``) with its message in that
row, where the admin's eyes are."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Literal
from urllib.parse import quote

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template

from learning.accounts.auth import CurrentUser
from learning.catalog import schemas as s
from learning.catalog.deps import provide_catalog_editor
from learning.catalog.editing import CatalogEditor
from learning.db import models as m
from learning.lib.clock import utcnow
from learning.lib.errors import NotFound, Unprocessable
from learning.media.deps import provide_download_stats, provide_media_service
from learning.media.downloads import OTHER_APP, DownloadStatsService
from learning.media.downloads.agents import WEB_BROWSER
from learning.media.services import MediaService
from learning.uploads.deps import provide_upload_service
from learning.uploads.services import NotRetryable, UploadService
from learning.web.charts import downloads_chart
from learning.web.deps import provide_viewer
from learning.web.formatting import datetime_fr
from learning.web.security import requires_admin_page
from learning.web.templating import Flash, page, see_other
from learning.web.views import page_route

UPLOAD_LABELS = {
    m.UploadStatus.UPLOADING: "Envoi en cours",
    m.UploadStatus.UPLOADED: "En attente de traitement",
    m.UploadStatus.PROCESSING: "Traitement en cours",
    m.UploadStatus.READY: "Prêt",
    m.UploadStatus.FAILED: "Échec",
}
DONE = {
    "publie": "C’est publié.",
    "depublie": "C’est dépublié : le public ne le voit plus.",
    "relance": "Le traitement est relancé.",
    "seance-creee": "La séance est créée : envoyez son replay depuis sa ligne.",
    "module-cree": "Le module est créé.",
    "enregistre": "Les modifications sont enregistrées.",
}
# The statistics name a listener's app as the OPAWG list does; the kinds without a name are ours to say.
APP_LABELS = {WEB_BROWSER: "Navigateur web", OTHER_APP: "Autre application"}
PERIODS = (7, 30, 90, 365)


@dataclass(frozen=True, slots=True)
class Parent:
    publication: m.Publication
    publish_at: datetime | None


@dataclass(frozen=True, slots=True)
class Visibility:
    """What the public sees of an item now: ``state`` (published, scheduled or draft), a label, a note."""

    state: str
    label: str
    note: str = ""


def visibility(episode: s.Episode, now: datetime) -> Visibility:
    """An item is public when it and its module (or series) both are: a published lesson of a module scheduled
    for later is scheduled too, and one of a draft module is not public at all."""
    parent_name = "le module" if episode.kind is m.UploadTarget.LESSON else "la série"
    parent = Parent(episode.parent_publication, episode.parent_publish_at)
    if episode.publication is m.Publication.DRAFT:
        return Visibility("draft", "Brouillon")
    if parent.publication is m.Publication.DRAFT:
        return Visibility("draft", "Non visible", f"{parent_name} est en brouillon")
    own, theirs = m.publishes_later(episode, now), m.publishes_later(parent, now)
    if own is None and theirs is None:
        return Visibility("published", "Publié")
    moment = max(when for when in (own, theirs) if when is not None)
    note = f"avec {parent_name}" if moment == theirs else ""
    return Visibility("scheduled", f"Programmé · le {datetime_fr(moment)}", note)


@dataclass(frozen=True, slots=True)
class DeskRow:
    episode: s.Episode
    upload: m.Upload | None
    downloads: int
    retryable: bool = False
    now: datetime | None = None

    @property
    def state(self) -> str:
        """uploading | uploaded | processing | ready | failed, or ``none`` (no replay yet)."""
        if self.upload is not None:
            return self.upload.status.value
        return "ready" if self.episode.media_id is not None else "none"

    @property
    def state_label(self) -> str:
        if self.upload is not None:
            return UPLOAD_LABELS[self.upload.status]
        return "Prêt" if self.episode.media_id is not None else "Aucun replay"

    @property
    def visibility(self) -> Visibility:
        return visibility(self.episode, self.now or utcnow())

    @property
    def takes_media(self) -> bool:
        return self.episode.lesson_kind is not m.LessonKind.TEXT


class PublicationForm(msgspec.Struct):
    cible: str = ""
    etat: Literal["published", "draft"] = "published"


def _group(rows: list[DeskRow]) -> list[tuple[str, str, list[DeskRow]]]:
    groups: dict[str, tuple[str, str, list[DeskRow]]] = {}
    for row in rows:
        key = row.episode.parent_slug
        groups.setdefault(key, (key, row.episode.parent_title, []))[2].append(row)
    return list(groups.values())


class BadTarget(Unprocessable):
    title = "Cible inconnue"


def _split_target(target: str) -> tuple[str, str, str]:
    kind, _, path = target.partition(":")
    first, _, second = path.partition("/")
    if kind not in {"session", "lesson"} or not first or not second:
        raise BadTarget("La cible doit être « session:<série>/<séance> » ou « lesson:<module>/<leçon> ».")
    return kind, first, second


async def _unpublish_page(editor: CatalogEditor, viewer: CurrentUser, target: str) -> Template:
    kind, parent, slug = _split_target(target)
    episodes = await (editor.session_episodes() if kind == "session" else editor.lesson_episodes())
    episode = next((e for e in episodes if e.parent_slug == parent and e.slug == slug), None)
    if episode is None:
        raise NotFound("Cette séance ou cette leçon n’existe pas.")
    return page("admin/unpublish.html", viewer, episode=episode, anchor=f"{kind}-{parent}-{slug}")


class AdminPages(Controller):
    path = "/admin"
    guards = [requires_admin_page]
    dependencies = {
        "media": Provide(provide_media_service, sync_to_thread=False),
        "uploads": Provide(provide_upload_service, sync_to_thread=False),
        "editor": Provide(provide_catalog_editor, sync_to_thread=False),
        "download_stats": Provide(provide_download_stats, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    @page_route("/", name="web:admin")
    async def desk_page(
        self,
        editor: NamedDependency[CatalogEditor],
        uploads: NamedDependency[UploadService],
        download_stats: NamedDependency[DownloadStatsService],
        viewer: NamedDependency[CurrentUser],
        fait: Annotated[str, QueryParameter(max_length=40)] = "",
        cible: Annotated[str, QueryParameter(max_length=300)] = "",
        envoi: Annotated[str, QueryParameter(max_length=40)] = "",
    ) -> Template:
        """Every session and lesson with its replay state and publication; the recent uploads; the modules.
        ``fait`` names what was just done, and ``cible`` (an item) or ``envoi`` (an upload) where to say it."""
        sessions, lessons = await editor.session_episodes(), await editor.lesson_episodes()
        latest = await uploads.latest_per_target()
        recent, _ = await uploads.listing(limit=20, offset=0)
        retryable = await uploads.retryable_among([*latest.values(), *recent])
        media_ids = [episode.media_id for episode in [*sessions, *lessons] if episode.media_id is not None]
        totals = await download_stats.episode_totals(media_ids)
        now = utcnow()

        def row(episode: s.Episode) -> DeskRow:
            downloads = totals.get(episode.media_id, 0) if episode.media_id else 0
            upload = latest.get(episode.id)
            return DeskRow(episode, upload, downloads, upload is not None and upload.id in retryable, now)

        names = {episode.id: episode for episode in [*sessions, *lessons]}
        message = DONE.get(fait)
        all_modules = await editor.modules()
        targets = {e.target for e in [*sessions, *lessons]} | {f"module:{module.slug}" for module in all_modules}
        shown_in_row = bool(cible) and cible in targets
        shown_in_upload = bool(envoi) and envoi in {str(upload.id) for upload in recent}
        flash = Flash(message) if message and not (shown_in_row or shown_in_upload) else None
        return page(
            "admin/desk.html", viewer, flash=flash, message=message, message_target=cible, message_upload=envoi,
            series=_group([row(e) for e in sessions]), modules=_group([row(e) for e in lessons]),
            recent=[(upload, names.get(upload.target_id)) for upload in recent], labels=UPLOAD_LABELS,
            retryable=retryable, all_modules=all_modules, now=now,
        )  # fmt: skip

    @page_route("/envoi", name="web:admin-upload")
    async def upload_page(
        self,
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
        cible: Annotated[str, QueryParameter(max_length=300)] = "",
    ) -> Template:
        """The resumable upload of a replay (the page's script speaks tus to /api/v1/admin/uploads/)."""
        sessions = await editor.session_episodes()
        lessons = [lesson for lesson in await editor.lesson_episodes() if lesson.lesson_kind is not m.LessonKind.TEXT]
        return page(
            "admin/upload.html", viewer, sessions=_group([DeskRow(e, None, 0) for e in sessions]),
            modules=_group([DeskRow(e, None, 0) for e in lessons]), selected=cible,
        )  # fmt: skip

    @post("/envois/{upload_id:uuid}/relancer", name="web:admin-retry")
    async def retry(self, upload_id: FromPath[uuid.UUID], uploads: NamedDependency[UploadService]) -> Redirect:
        """Process a failed upload again, when that can help (a refused file was removed: it has to be sent
        again; the desk offers no « Relancer » for it)."""
        if not await uploads.retryable(upload_id):
            raise NotRetryable(
                "Relancer n’aiderait pas : ce fichier a été refusé puis supprimé, ou sa séance ou leçon n’existe "
                "plus ; envoyez-le à nouveau."
            )
        await uploads.retry(upload_id)
        return see_other(f"/admin/?fait=relance&envoi={upload_id}#envoi-{upload_id}")

    @page_route("/seances/{series_slug:str}/{session_slug:str}/depublier", name="web:admin-unpublish-session")
    async def unpublish_session_page(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
    ) -> Template:
        """Unpublishing a session asks first: what will disappear, and the button that does it (or « Annuler »)."""
        return await _unpublish_page(editor, viewer, f"session:{series_slug}/{session_slug}")

    @page_route("/modules/{slug:str}/lecons/{lesson_slug:str}/depublier", name="web:admin-unpublish-lesson")
    async def unpublish_lesson_page(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        editor: NamedDependency[CatalogEditor],
        viewer: NamedDependency[CurrentUser],
    ) -> Template:
        """Unpublishing a lesson asks first, as a session's does."""
        return await _unpublish_page(editor, viewer, f"lesson:{slug}/{lesson_slug}")

    @post("/publication", name="web:admin-publication")
    async def publication(
        self, data: URLEncodedBody[PublicationForm], editor: NamedDependency[CatalogEditor]
    ) -> Redirect:
        """Publish or unpublish a session or a lesson; the desk comes back at its row, the message in it."""
        kind, parent, slug = _split_target(data.cible)
        change = s.PublicationChange(state=m.Publication(data.etat))
        if kind == "session":
            await editor.publish_session(parent, slug, change)
        else:
            await editor.publish_lesson(parent, slug, change)
        done = "publie" if data.etat == "published" else "depublie"
        return see_other(f"/admin/?fait={done}&cible={quote(data.cible)}#{kind}-{parent}-{slug}")

    @page_route("/telechargements/{asset_id:uuid}", name="web:admin-downloads")
    async def downloads(
        self,
        asset_id: FromPath[uuid.UUID],
        editor: NamedDependency[CatalogEditor],
        media: NamedDependency[MediaService],
        download_stats: NamedDependency[DownloadStatsService],
        viewer: NamedDependency[CurrentUser],
        jours: Annotated[int, QueryParameter(ge=1, le=366)] = 30,
    ) -> Template:
        """Downloads of an episode per day (its video and its audio file together), and per app."""
        files = await media.episode_files(asset_id)
        if not files:
            raise NotFound("Aucun épisode pour ce fichier.")
        end = utcnow().date()
        start = end - timedelta(days=jours - 1)
        per_day: dict[date, int] = {}
        apps: dict[str, int] = {}
        per_file = []
        for file in files:
            report = await download_stats.for_asset(file.id, start=start, end=end)
            for day, count in report.days:
                per_day[day] = per_day.get(day, 0) + count
            for app, count in report.apps:
                apps[app] = apps.get(app, 0) + count
            per_file.append((file, report.total))
        apps = {APP_LABELS.get(app, app): count for app, count in apps.items()}
        days = sorted(per_day.items())
        episode = await editor.episode_of(asset_id)
        title = episode.title if episode is not None else files[0].name
        chart = downloads_chart(days, title=f"Téléchargements par jour : {title}")
        return page(
            "admin/downloads.html", viewer, episode=episode, title=title, chart=chart, days=days,
            total=sum(per_day.values()), apps=sorted(apps.items(), key=lambda item: (-item[1], item[0])),
            per_file=per_file, jours=jours, periods=PERIODS, asset_id=asset_id,
        )  # fmt: skip
