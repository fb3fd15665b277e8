"""The public pages: home, modules and lessons, webinar series and sessions, search. Readable without
JavaScript; the player's script adds progress and resuming for signed-in learners."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template

from learning.accounts.auth import CurrentUser
from learning.catalog import schemas as s
from learning.catalog.deps import provide_catalog_service
from learning.catalog.services import BadSearch, CatalogService
from learning.db import models as m
from learning.lib.errors import NotFound
from learning.media import formats
from learning.media.deps import provide_media_service
from learning.media.services import MediaService
from learning.progress.deps import provide_progress_service
from learning.progress.events import ProgressService
from learning.quizzes.deps import provide_quiz_service
from learning.quizzes.services import QuizService
from learning.registrations.deps import provide_registration_service
from learning.registrations.services import RegistrationService
from learning.web.chapters import load_chapters, to_webvtt
from learning.web.deps import provide_viewer
from learning.web.templating import Flash, done_flash, page, static_url
from learning.web.transcripts import Cue, load_transcript
from learning.web.transcripts import to_webvtt as transcript_webvtt
from learning.web.views import (
    SUBSCRIBE_FOLDERS,
    FeedLink,
    feed_link,
    feed_url,
    local_url,
    module_marks,
    page_route,
    qr_svg,
    resume_target,
    search_path,
)  # fmt: skip

ALL = 100  # the catalog is small: one page of everything
VTT = f"{formats.VTT.mime_type}; charset=utf-8"


async def _feeds(catalog: CatalogService, base_url: str) -> dict[tuple[m.FeedKind, str], FeedLink]:
    return {(source.kind, source.slug): feed_link(base_url, source) for source in await catalog.feed_sources()}


async def _poster(media: MediaService, found: s.MediaRef | None) -> str | None:
    if found is None or not found.mime_type.startswith("video/"):
        return None
    poster = await media.poster(found.id)
    return f"/media/{poster.id}/{poster.name}.{poster.extension}" if poster is not None else None


def _captions(transcript: s.MediaRef | None, cues: list[Cue], base_url: str, page_path: str) -> str | None:
    """The captions track: the transcript itself when it is WebVTT, else (SubRip) its cues as WebVTT."""
    if transcript is None or not cues:
        return None
    if transcript.mime_type.startswith(formats.VTT.mime_type):
        return local_url(transcript.url, base_url)
    return f"{page_path}/transcription.vtt"


async def _player(
    media: MediaService,
    base_url: str,
    found: s.MediaRef | None,
    transcript: s.MediaRef | None,
    chapters: s.MediaRef | None,
    page_path: str,
) -> dict[str, Any]:
    """What the player of a lesson or a webinar session shows: the media, its poster, captions, chapters and
    the transcript's cues."""
    loaded = await load_chapters(media, chapters.id if chapters else None)
    cues = await load_transcript(media, transcript)
    return {
        "media_url": local_url(found.url if found else None, base_url),
        "poster": await _poster(media, found),
        "captions": _captions(transcript, cues, base_url, page_path),
        "transcript_url": local_url(transcript.url, base_url) if transcript and cues else None,
        "cues": cues,
        "chapters": loaded,
        "chapters_track": f"{page_path}/chapitres.vtt" if loaded else None,
    }


async def _chapters_vtt(media: MediaService, chapters: s.MediaRef | None, found: s.MediaRef | None) -> Response[str]:
    loaded = await load_chapters(media, chapters.id if chapters else None)
    return Response(to_webvtt(loaded, found.duration_seconds if found else None), media_type=VTT)


async def _transcript_vtt(media: MediaService, transcript: s.MediaRef | None) -> Response[str]:
    cues = await load_transcript(media, transcript)
    if not cues:
        raise NotFound("Cette page n’a pas de transcription.")
    return Response(transcript_webvtt(cues), media_type=VTT)


@dataclass(frozen=True, slots=True)
class SiteIdentity:
    """Who runs this installation, from the settings: what the legal pages name."""

    publisher: str
    contact: str
    host: str


def _site(state: State) -> SiteIdentity:
    settings = state.settings
    return SiteIdentity(settings.site_publisher, settings.site_contact_email, settings.site_host)


async def _modules(catalog: CatalogService) -> list[s.ModuleDetail]:
    """Every published module with its lessons (the cards give their length and kinds of media)."""
    modules, _ = await catalog.modules(limit=ALL, offset=0)
    return [await catalog.module(module.slug) for module in modules]


async def _webinars(catalog: CatalogService) -> list[s.SeriesDetail]:
    """Every published webinar series with all its sessions."""
    series_list, _ = await catalog.series_list(limit=ALL, offset=0)
    return [await catalog.series(series.slug, status=None, year=None, limit=ALL, offset=0) for series in series_list]


class PublicPages(Controller):
    dependencies = {
        "catalog": Provide(provide_catalog_service, sync_to_thread=False),
        "progress": Provide(provide_progress_service, sync_to_thread=False),
        "media": Provide(provide_media_service, sync_to_thread=False),
        "registrations": Provide(provide_registration_service, sync_to_thread=False),
        "quizzes": Provide(provide_quiz_service, sync_to_thread=False),
        "viewer": Provide(provide_viewer),
    }

    @page_route("/", name="web:home")
    async def home(
        self,
        catalog: NamedDependency[CatalogService],
        progress: NamedDependency[ProgressService],
        viewer: NamedDependency[CurrentUser | None],
        media: NamedDependency[MediaService],
        state: State,
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """The MOOC's modules and the webinar series, each with its feed; « Reprendre » for a signed-in learner."""
        base = state.settings.base_url
        modules = await _modules(catalog)
        webinars = await _webinars(catalog)
        resume = resume_target(await progress.overview(viewer.id)) if viewer is not None else None
        return page(
            "home.html", viewer, modules=modules, webinars=webinars, feeds=await _feeds(catalog, base), resume=resume,
            flash=done_flash(fait),
        )  # fmt: skip

    @page_route("/mentions-legales", name="web:legal")
    async def legal(self, viewer: NamedDependency[CurrentUser | None], state: State) -> Template:
        """Who publishes and hosts the site (settings), and what its content is."""
        return page("legal.html", viewer, site=_site(state))

    @page_route("/donnees-personnelles", name="web:privacy")
    async def privacy(self, viewer: NamedDependency[CurrentUser | None], state: State) -> Template:
        """What the site keeps about learners and listeners, why, for how long; their rights."""
        return page("privacy.html", viewer, site=_site(state))

    @page_route("/accessibilite", name="web:accessibility")
    async def accessibility(self, viewer: NamedDependency[CurrentUser | None], state: State) -> Template:
        """The accessibility statement (RGAA): its state, said as measured (no audit yet), and how to report."""
        return page("accessibility.html", viewer, site=_site(state))

    @page_route("/favicon.ico", name="web:favicon")
    async def favicon(self) -> Redirect:
        """Browsers ask for /favicon.ico whatever the page links: the site's icon (SVG), under its digest URL."""
        return Redirect(static_url("favicon.svg"), status_code=302, headers={"Cache-Control": "public, max-age=86400"})

    @page_route("/modules", name="web:modules")
    async def modules(
        self, catalog: NamedDependency[CatalogService], viewer: NamedDependency[CurrentUser | None], state: State
    ) -> Template:
        """Every published module, as on the home page (what a learner finds by shortening a module's address)."""
        modules = await _modules(catalog)
        return page("modules.html", viewer, modules=modules, feeds=await _feeds(catalog, state.settings.base_url))

    @page_route("/webinaires", name="web:webinars")
    async def webinars(
        self, catalog: NamedDependency[CatalogService], viewer: NamedDependency[CurrentUser | None], state: State
    ) -> Template:
        """Every published webinar series with its sessions."""
        webinars = await _webinars(catalog)
        return page("webinars.html", viewer, webinars=webinars, feeds=await _feeds(catalog, state.settings.base_url))

    @page_route("/modules/{slug:str}", name="web:module")
    async def module(
        self,
        slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        progress: NamedDependency[ProgressService],
        viewer: NamedDependency[CurrentUser | None],
        media: NamedDependency[MediaService],
        quizzes: NamedDependency[QuizService],
        state: State,
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """A module and its lessons (and its quiz); a signed-in learner sees where they are and can resume."""
        module = await catalog.module(slug)
        marks = module_marks(await progress.module(viewer.id, slug)) if viewer is not None else None
        feeds = await _feeds(catalog, state.settings.base_url)
        return page(
            "module.html", viewer, module=module, marks=marks, feed=feeds.get((m.FeedKind.MODULE, module.slug)),
            flash=done_flash(fait), quiz=await quizzes.find(slug),
        )  # fmt: skip

    @page_route("/modules/{slug:str}/lecons/{lesson_slug:str}", name="web:lesson")
    async def lesson(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        progress: NamedDependency[ProgressService],
        viewer: NamedDependency[CurrentUser | None],
        media: NamedDependency[MediaService],
        state: State,
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """A lesson: its text, and its player when it has a video or a sound."""
        lesson = await catalog.lesson(slug, lesson_slug)
        marks = module_marks(await progress.module(viewer.id, slug)) if viewer is not None else None
        return page(
            "lesson.html",
            viewer,
            flash=done_flash(fait),
            lesson=lesson,
            marks=marks,
            mark=marks.lessons.get(lesson.id) if marks is not None else None,
            **await _player(
                media, state.settings.base_url, lesson.media, lesson.transcript, lesson.chapters,
                f"/modules/{slug}/lecons/{lesson_slug}",
            ),
        )  # fmt: skip

    @page_route("/modules/{slug:str}/lecons/{lesson_slug:str}/chapitres.vtt", name="web:lesson-chapters")
    async def lesson_chapters(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        media: NamedDependency[MediaService],
    ) -> Response[str]:
        """The lesson's chapters as WebVTT, for the player's chapter track."""
        lesson = await catalog.lesson(slug, lesson_slug)
        return await _chapters_vtt(media, lesson.chapters, lesson.media)

    @page_route("/modules/{slug:str}/lecons/{lesson_slug:str}/transcription.vtt", name="web:lesson-transcript")
    async def lesson_transcript(
        self,
        slug: FromPath[str],
        lesson_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        media: NamedDependency[MediaService],
    ) -> Response[str]:
        """The lesson's transcript as WebVTT (the captions of a SubRip transcript)."""
        lesson = await catalog.lesson(slug, lesson_slug)
        return await _transcript_vtt(media, lesson.transcript)

    @page_route("/webinaires/{series_slug:str}", name="web:series")
    async def series(
        self,
        series_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        viewer: NamedDependency[CurrentUser | None],
        media: NamedDependency[MediaService],
        state: State,
    ) -> Template:
        """A webinar series and all its sessions."""
        series = await catalog.series(series_slug, status=None, year=None, limit=ALL, offset=0)
        base = state.settings.base_url
        feeds = await _feeds(catalog, base)
        calendar = feed_url(base, m.FeedKind.WEBINAR_SERIES, series.slug, "ics")
        return page(
            "series.html", viewer, series=series, feed=feeds.get((m.FeedKind.WEBINAR_SERIES, series.slug)),
            calendar_url=local_url(calendar, base), calendar_webcal="webcal://" + calendar.split("://", 1)[-1],
        )  # fmt: skip

    @page_route("/webinaires/{series_slug:str}/{session_slug:str}", name="web:session")
    async def session(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        viewer: NamedDependency[CurrentUser | None],
        media: NamedDependency[MediaService],
        registrations: NamedDependency[RegistrationService],
        state: State,
        fait: Annotated[str, QueryParameter(max_length=20)] = "",
    ) -> Template:
        """A webinar session: its programme, speakers and replay; registering while it is to come."""
        session = await catalog.session(series_slug, session_slug)
        feeds = await _feeds(catalog, state.settings.base_url)
        registered = viewer is not None and await registrations.is_registered(viewer.id, series_slug, session_slug)
        return page(
            "session.html",
            viewer,
            session=session,
            registered=registered,
            flash=done_flash(fait),
            feed=feeds.get((m.FeedKind.WEBINAR_SERIES, series_slug)),
            **await _player(
                media, state.settings.base_url, session.replay, session.transcript, session.chapters,
                f"/webinaires/{series_slug}/{session_slug}",
            ),
        )  # fmt: skip

    @page_route("/webinaires/{series_slug:str}/{session_slug:str}/rejoindre", name="web:session-join")
    async def join(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        registrations: NamedDependency[RegistrationService],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Redirect:
        """« Rejoindre la séance »: to its room; a registered learner doing so during it is counted as attending."""
        room = await registrations.attend(viewer.id if viewer else None, series_slug, session_slug)
        if room is None:
            return Redirect(f"/webinaires/{series_slug}/{session_slug}", status_code=303)
        return Redirect(room, status_code=303)

    @page_route("/seances/desinscription/{token:str}", name="web:session-unregister-link")
    async def unregister_link(
        self, token: FromPath[str], registrations: NamedDependency[RegistrationService],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:  # fmt: skip
        """The link of a registration's messages: it asks first (mail scanners open links), no sign-in needed."""
        usable = registrations.read_token(token) is not None
        return page("unregister_link.html", viewer, status_code=200 if usable else 404, usable=usable, done=None)

    @post("/seances/desinscription/{token:str}", name="web:session-unregister-link-post")
    async def unregister_by_link(
        self, token: FromPath[str], registrations: NamedDependency[RegistrationService],
        viewer: NamedDependency[CurrentUser | None],
    ) -> Template:  # fmt: skip
        found = await registrations.unregister_by_token(token)
        return page("unregister_link.html", viewer, usable=True, done=found.session.title)

    @page_route("/webinaires/{series_slug:str}/{session_slug:str}/chapitres.vtt", name="web:session-chapters")
    async def session_chapters(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        media: NamedDependency[MediaService],
    ) -> Response[str]:
        """The session's chapters as WebVTT, for the player's chapter track."""
        session = await catalog.session(series_slug, session_slug)
        return await _chapters_vtt(media, session.chapters, session.replay)

    @page_route("/abonnement/{folder:str}/{slug:str}", name="web:subscribe")
    async def subscribe(
        self,
        folder: FromPath[str],
        slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        viewer: NamedDependency[CurrentUser | None],
        state: State,
    ) -> Template:
        """« S'abonner »: a feed's address whole, its QR code, and what to tap in each podcast app."""
        kind = next((kind for kind, name in SUBSCRIBE_FOLDERS.items() if name == folder), None)
        feed = (await _feeds(catalog, state.settings.base_url)).get((kind, slug)) if kind is not None else None
        if feed is None:
            raise NotFound("Aucun flux n’a cette adresse.")
        if kind is m.FeedKind.MODULE:
            module = await catalog.module(slug)
            title, back, what = f"Module {module.position} — {module.title}", f"/modules/{slug}", "ce module"
        else:
            series = await catalog.series(slug, status=None, year=None, limit=1, offset=0)
            title, back, what = series.title, f"/webinaires/{slug}", "cette série de webinaires"
        qr = qr_svg(feed.url, f"QR code de l’adresse du flux : {feed.url}")
        return page("subscribe.html", viewer, feed=feed, title=title, back=back, what=what, qr=qr)

    @page_route("/webinaires/{series_slug:str}/{session_slug:str}/transcription.vtt", name="web:session-transcript")
    async def session_transcript(
        self,
        series_slug: FromPath[str],
        session_slug: FromPath[str],
        catalog: NamedDependency[CatalogService],
        media: NamedDependency[MediaService],
    ) -> Response[str]:
        """The session's transcript as WebVTT (the captions of a SubRip transcript)."""
        session = await catalog.session(series_slug, session_slug)
        return await _transcript_vtt(media, session.transcript)

    @page_route("/recherche", name="web:search")
    async def search(
        self,
        catalog: NamedDependency[CatalogService],
        viewer: NamedDependency[CurrentUser | None],
        q: Annotated[str, QueryParameter(max_length=1000)] = "",
    ) -> Template:
        """French full-text search over the catalog."""
        results: list[tuple[s.SearchResult, str]] = []
        found = None
        flash = None
        if q.strip():
            try:
                found = await catalog.search(q, limit=30, offset=0)
            except BadSearch:
                flash = Flash("La recherche doit tenir en 200 caractères imprimables.", "error")
            else:
                results = [(hit, search_path(hit.kind, hit.slug, hit.parent_slug)) for hit in found.items]
        return page(
            "search.html", viewer, q=q, results=results, flash=flash,
            total=found.total if found else 0, total_is_lower_bound=found.total_is_lower_bound if found else False,
        )  # fmt: skip
