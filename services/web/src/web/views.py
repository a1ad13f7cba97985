"""The portal's pages: thin views that call the services' APIs and render templates in the chosen language."""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment
from markupsafe import escape

from web.api import Api, ApiError, CallContext, ServiceUnavailable
from web.config import WebSettings
from web.i18n import LANGUAGES, Catalogue, catalogue, negotiate
from web.sessions import Session, SessionStore, new_cookie
from web.words import ATTACHMENT_STATE, NEXT_STEP, translator

router = APIRouter()

LANG_COOKIE = "ras_lang"
#: Refresh the access token when it has less than this many seconds left.
REFRESH_MARGIN_S = 30
MAX_FIELD = 200


class LazyCsrf:
    """The session's CSRF token, created only when a page renders a form that carries it: a visitor who reads a
    page without a form gets no session row and no cookie."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def __str__(self) -> str:
        return self.session.csrf

    def __html__(self) -> str:
        return str(escape(self.session.csrf))


@dataclass
class Page:
    """One request's view of the portal: session, language, services."""

    request: Request
    session: Session
    language: str
    settings: WebSettings
    store: SessionStore
    api: Api
    templates: Environment

    @property
    def t(self) -> Catalogue:
        """The chosen language's catalogue."""
        return catalogue(self.language)

    def ctx(self) -> CallContext:
        """What a call to a service passes on."""
        return CallContext(
            client_address=client_address(self.request, self.settings),
            traceparent=self.request.headers.get("traceparent"),
            language=self.language,
        )

    async def finish(self, response: Response) -> Response:
        """Save the session when it changed and set its cookie."""
        if self.session.dirty:
            staff = bool(self.session.data.get("staff"))
            minutes = (
                self.settings.staff_session_idle_minutes if staff else self.settings.session_idle_minutes
            )
            await self.store.save(self.session.cookie, self.session.data, timedelta(minutes=minutes))
            response.set_cookie(
                self.settings.cookie_name,
                self.session.cookie,
                httponly=True,
                secure=self.settings.cookie_secure,
                samesite="lax",
                path="/",
            )
        response.headers["Cache-Control"] = "no-store"
        return response

    async def render(self, template: str, status: int = 200, **values: Any) -> Response:
        """Render a template with the page's common values."""
        other = "en" if self.language == "ja" else "ja"
        path = self.request.url.path
        query = self.request.url.query
        here = path + (f"?{query}" if query else "")
        html = self.templates.get_template(template).render(
            _=translator(self.t),
            next_step=NEXT_STEP,
            attachment_state=ATTACHMENT_STATE,
            lang=self.language,
            other_lang=other,
            switch_url=f"/language/{other}?next={quote(here, safe='')}",
            here=here,
            csrf=LazyCsrf(self.session),
            signed_in=self.session.signed_in,
            settings=self.settings,
            **values,
        )
        return await self.finish(HTMLResponse(html, status_code=status))

    async def redirect(self, url: str) -> Response:
        """See other (after a form)."""
        return await self.finish(RedirectResponse(url, status_code=303))


def client_address(request: Request, settings: WebSettings) -> str | None:
    """The browser's address: the TCP peer, or X-Forwarded-For when the peer is the gateway."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in settings.trusted_proxies:
        return forwarded.split(",")[-1].strip()
    return peer


def safe_next(value: str | None, default: str = "/applications") -> str:
    """Only a path of this site: never another site (open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value[:500]
    return default


async def page(request: Request) -> Page:
    """Build the request's Page: load or start its session, choose its language."""
    state = request.app.state
    settings: WebSettings = state.settings
    store: SessionStore = state.sessions
    cookie = request.cookies.get(settings.cookie_name)
    data = await store.load(cookie) if cookie and len(cookie) < 100 else None
    session = Session(cookie, data) if cookie and data is not None else Session(new_cookie(), {}, new=True)
    language = negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    return Page(request, session, language, settings, store, state.api, state.templates)


async def access_token(p: Page) -> str | None:
    """The session's access token, refreshed when it is about to expire; None when the session has ended."""
    token = p.session.data.get("access_token")
    if not token:
        return None
    if float(p.session.data.get("access_expires_at", 0)) - time.time() > REFRESH_MARGIN_S:
        return str(token)
    try:
        tokens = await p.api.refresh(p.ctx(), str(p.session.data.get("refresh_token", "")))
    except ServiceUnavailable:
        raise
    except ApiError:
        p.session.data.clear()
        p.session.dirty = True
        return None
    keep_tokens(p.session, tokens)
    return str(tokens["access_token"])


def keep_tokens(session: Session, tokens: dict[str, Any]) -> None:
    """Store the tokens of a sign-in or refresh in the session (never in the browser)."""
    session.set("access_token", tokens["access_token"])
    session.set("refresh_token", tokens["refresh_token"])
    session.set("access_expires_at", time.time() + int(tokens.get("expires_in", 900)))


def csrf_ok(p: Page, form: Any) -> bool:
    """Every state-changing form carries the session's CSRF token."""
    sent = form.get("csrf")
    expected = p.session.data.get("csrf")
    return isinstance(sent, str) and isinstance(expected, str) and secrets.compare_digest(sent, expected)


# ------------------------------------------------------------------------------------------------ public pages
@router.get("/", response_class=HTMLResponse)
async def start(request: Request) -> Response:
    """The start page: who may use the service, what to prepare, what is in scope and what is not."""
    p = await page(request)
    return await p.render("start.html")


@router.get("/language/{code}")
async def switch_language(request: Request, code: str, next: str | None = None) -> Response:
    """Switch the language and come back to the same page; the choice is remembered."""
    target = safe_next(next, "/")
    response = RedirectResponse(target, status_code=303)
    if code in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=request.app.state.settings.cookie_secure,
        )
    return response


# ------------------------------------------------------------------------------------------------ sign-in
@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, next: str | None = None) -> Response:
    """Sign in with 認証ID and password."""
    p = await page(request)
    if p.session.signed_in:
        return await p.redirect(safe_next(next))
    return await p.render("sign_in.html", next=safe_next(next), errors=[], values={})


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    """Check the form, ask identity, keep the tokens server-side, start a fresh session."""
    p = await page(request)
    form = await request.form()
    target = safe_next(str(form.get("next") or ""))
    auth_id = str(form.get("auth_id") or "").strip()[:MAX_FIELD]
    password = str(form.get("password") or "")[:1000]
    values = {"auth_id": auth_id}
    if not csrf_ok(p, form):
        errors = [{"field": "auth_id", "text": p.t.gettext("This form has expired. Please sign in again.")}]
        return await p.render("sign_in.html", status=400, next=target, errors=errors, values=values)
    errors = []
    if not auth_id:
        errors.append({"field": "auth_id", "text": p.t.gettext("Enter your authentication ID (認証ID).")})
    if not password:
        errors.append({"field": "password", "text": p.t.gettext("Enter your password.")})
    if errors:
        return await p.render("sign_in.html", status=400, next=target, errors=errors, values=values)
    try:
        tokens = await p.api.sign_in(p.ctx(), auth_id, password)
    except ServiceUnavailable:
        raise
    except ApiError as exc:
        status = 429 if exc.status == 429 else 400
        errors = [{"field": "auth_id", "text": exc.message(p.language)}]
        return await p.render("sign_in.html", status=status, next=target, errors=errors, values=values)
    # A new session id at sign-in: a cookie planted before sign-in is worth nothing after it.
    if not p.session.new:
        await p.store.delete(p.session.cookie)
    p.session = Session(new_cookie(), {}, new=True)
    keep_tokens(p.session, tokens)
    return await p.redirect(target)


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request) -> Response:
    """End the session here and at identity."""
    p = await page(request)
    form = await request.form()
    if not csrf_ok(p, form):
        return await p.redirect("/applications")
    refresh = p.session.data.get("refresh_token")
    if refresh:
        with contextlib.suppress(ApiError):  # the session ends here whatever identity says
            await p.api.sign_out(p.ctx(), str(refresh))
    await p.store.delete(p.session.cookie)
    p.session = Session(new_cookie(), {}, new=True)
    return await p.render("signed_out.html")


# ------------------------------------------------------------------------------------------------ 申請情報検索
@router.get("/applications", response_class=HTMLResponse)
async def applications(request: Request, page_number: int = 1) -> Response:
    """My applications and those of the people I act for: the state in words and what happens next."""
    p = await page(request)
    token = await access_token(p)
    if token is None:
        return await p.redirect("/sign-in?next=/applications")
    page_number = max(1, min(page_number, 10_000))
    listing = await p.api.applications(p.ctx(), token, page_number)
    return await p.render("applications.html", listing=listing, page_number=page_number)


@router.get("/applications/{application_id}", response_class=HTMLResponse)
async def application(request: Request, application_id: str) -> Response:
    """One application: state, numbers, what happens next, every attachment's verdict, the history."""
    p = await page(request)
    token = await access_token(p)
    if token is None:
        return await p.redirect(f"/sign-in?next=/applications/{quote(application_id[:64])}")
    try:
        found = await p.api.application(p.ctx(), token, application_id[:64])
    except ApiError as exc:
        if exc.status in (404, 422, 403):
            return await p.render("not_found.html", status=404)
        raise
    return await p.render("application.html", app=found)
