"""The pages that e-mailed links open: set the first password, reset a forgotten one, ask for a reset link.

A link carries its token in the query string (``/password-setup?token=…``) so that it works without JavaScript.
The portal moves the token into the session at once and redirects to the same page without it, so the token does
not stay in the address bar, the history or a Referer; the gateway never logs query strings.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web.api import ApiError, ServiceUnavailable
from web.views import MAX_FIELD, Page, csrf_ok, page

router = APIRouter()

#: page path → (identity's link purpose, session key, template)
LINKS = {
    "password-setup": ("password_setup", "setup_token"),
    "password-reset": ("password_reset", "reset_token"),
}
MAX_TOKEN = 200


def password_errors(p: Page, error: ApiError) -> list[dict[str, str]]:
    """Each broken password rule as its own error line, in the page's language."""
    reasons: list[Any] = error.problem.get("reasons") or []
    lines = [
        {
            "field": "password",
            "text": str(r.get(f"message_{p.language}") or r.get("message_en") or r.get("code")),
        }
        for r in reasons
        if isinstance(r, dict)
    ]
    return lines or [{"field": "password", "text": error.message(p.language)}]


async def _link_page(request: Request, name: str, token: str | None) -> Response:
    purpose, key = LINKS[name]
    p = await page(request)
    if token:
        p.session.set(key, token[:MAX_TOKEN])
        return await p.redirect(f"/{name}")
    stored = p.session.data.get(key)
    if not stored:
        return await p.render("link_problem.html", status=400, problem="missing", name=name)
    try:
        await p.api.check_link(p.ctx(), str(stored), purpose)
    except ServiceUnavailable:
        raise
    except ApiError as exc:
        return await p.render("link_problem.html", status=410, problem=exc.code, name=name)
    return await p.render("set_password.html", name=name, errors=[])


async def _link_submit(request: Request, name: str) -> Response:
    purpose, key = LINKS[name]
    p = await page(request)
    form = await request.form()
    stored = p.session.data.get(key)
    if not stored:
        return await p.render("link_problem.html", status=400, problem="missing", name=name)
    if not csrf_ok(p, form):
        errors = [{"field": "password", "text": p.t.gettext("This form has expired. Please try again.")}]
        return await p.render("set_password.html", status=400, name=name, errors=errors)
    password = str(form.get("password") or "")[:1000]
    confirm = str(form.get("confirm") or "")[:1000]
    errors = []
    if not password:
        errors.append({"field": "password", "text": p.t.gettext("Enter a new password.")})
    elif password != confirm:
        errors.append(
            {"field": "confirm", "text": p.t.gettext("The two passwords are not the same. Type it again.")}
        )
    if errors:
        return await p.render("set_password.html", status=400, name=name, errors=errors)
    try:
        done = await p.api.set_password(p.ctx(), str(stored), password, reset=purpose == "password_reset")
    except ServiceUnavailable:
        raise
    except ApiError as exc:
        if exc.code.startswith("link.") or exc.code == "registration.completed":
            p.session.data.pop(key, None)
            p.session.dirty = True
            return await p.render("link_problem.html", status=410, problem=exc.code, name=name)
        return await p.render("set_password.html", status=400, name=name, errors=password_errors(p, exc))
    p.session.data.pop(key, None)
    p.session.dirty = True
    return await p.render("password_set.html", auth_id=done.get("auth_id", ""), name=name)


@router.get("/password-setup", response_class=HTMLResponse)
async def setup_page(request: Request, token: str | None = None) -> Response:
    """The set-up link from the registration mail: set the first password; the 認証ID is shown and mailed."""
    return await _link_page(request, "password-setup", token)


@router.post("/password-setup", response_class=HTMLResponse)
async def setup_submit(request: Request) -> Response:
    """Set the first password."""
    return await _link_submit(request, "password-setup")


@router.get("/password-reset", response_class=HTMLResponse)
async def reset_page(request: Request, token: str | None = None) -> Response:
    """The reset link: choose a new password (every other sign-in ends)."""
    return await _link_page(request, "password-reset", token)


@router.post("/password-reset", response_class=HTMLResponse)
async def reset_submit(request: Request) -> Response:
    """Set the new password."""
    return await _link_submit(request, "password-reset")


@router.get("/password-reset/request", response_class=HTMLResponse)
async def reset_request_page(request: Request) -> Response:
    """Ask for a reset link by e-mail."""
    p = await page(request)
    return await p.render("reset_request.html", errors=[], sent=False, email="")


@router.post("/password-reset/request", response_class=HTMLResponse)
async def reset_request(request: Request) -> Response:
    """Send the reset link; the answer is the same whether or not the address is registered."""
    p = await page(request)
    form = await request.form()
    email = str(form.get("email") or "").strip()[:MAX_FIELD]
    if not csrf_ok(p, form):
        errors = [{"field": "email", "text": p.t.gettext("This form has expired. Please try again.")}]
        return await p.render("reset_request.html", status=400, errors=errors, sent=False, email=email)
    if "@" not in email or len(email) < 3:
        errors = [
            {"field": "email", "text": p.t.gettext("Enter your e-mail address, like name@example.com.")}
        ]
        return await p.render("reset_request.html", status=400, errors=errors, sent=False, email=email)
    try:
        await p.api.request_reset(p.ctx(), email)
    except ServiceUnavailable:
        raise
    except ApiError as exc:
        errors = [{"field": "email", "text": exc.message(p.language)}]
        return await p.render("reset_request.html", status=400, errors=errors, sent=False, email=email)
    return await p.render("reset_request.html", errors=[], sent=True, email=email)
