"""Routes of the identity API under ``/api/identity``: each one translates HTTP to one use case and back."""

from __future__ import annotations

import base64
import ipaddress
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from identity.bootstrap import IdentityServices
from identity.domain.auth_id import normalize_auth_id
from identity.domain.challenge import ChallengePurpose
from identity.domain.jpki import CardRefusalCode
from identity.domain.link_token import LinkPurpose
from identity.domain.lockout import JST
from identity.domain.password_expiry import password_expires_at
from identity.entrypoints.http.errors import problems
from identity.entrypoints.http.schemas import (
    AcceptedPublic,
    AccountPublic,
    CardChallengeCreate,
    CardChallengePublic,
    CardSessionCreate,
    LinkCheckCreate,
    LinkCheckPublic,
    PasswordChangeCreate,
    PasswordChangedPublic,
    PasswordResetRequestCreate,
    PasswordSetPublic,
    PasswordSetupCreate,
    RefreshCreate,
    RegistrationCreate,
    RegistrationPublic,
    RepresentationCreate,
    RepresentationPublic,
    SessionCreate,
    SessionPublic,
    SetupLinkPublic,
)
from identity.service_layer import passwords, ratelimits, registration, representations, sessions
from identity.service_layer.accounts import get_account
from identity.service_layer.errors import Refused
from identity.service_layer.representations import RecordedRepresentation, may_act_today
from shared.auth import CurrentPrincipal

router = APIRouter(prefix="/api/identity", tags=["identity"])

CARD_CODES = tuple(c.value for c in CardRefusalCode)
LINK_CODES = ("link.unknown", "link.expired", "link.used")
AUTH_CODES = ("auth.required", "auth.invalid_token")


def get_services(request: Request) -> IdentityServices:
    """Return the services built by create_app."""
    services: IdentityServices = request.app.state.identity
    return services


ServicesDep = Annotated[IdentityServices, Depends(get_services)]


def client_address(request: Request, services: IdentityServices) -> str:
    """Return the caller's address: the peer, unless the peer is a configured proxy (the gateway).

    Behind a configured proxy the client is the right-most ``X-Forwarded-For`` entry that is not itself a
    configured proxy (the gateway appends the address it saw; entries to its left are the client's own claims).
    From any other peer the header is ignored, so it can neither dodge nor aim the per-address lock and limits.
    """
    peer = request.client.host if request.client else "unknown"
    proxies = services.proxy_networks
    if not proxies or not _in(peer, proxies):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a garbled header: count the proxy itself rather than believe it
        if not _in(str(address), proxies):
            return str(address)
    return peer


MAX_FORWARDED_HOPS = 16


def _in(address: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Return True when the address lies in one of the networks."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


RATE_CODES = ("rate.limited",)


def _tokens(issued: sessions.IssuedTokens) -> SessionPublic:
    """Return the response body of a sign-in."""
    return SessionPublic(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        refresh_expires_at=issued.refresh_expires_at,
        password_expires_at=issued.password_expires_at,
    )


def _representation(recorded: RecordedRepresentation, services: IdentityServices) -> RepresentationPublic:
    """Return the public view of a recorded applicant."""
    rep = recorded.representation
    return RepresentationPublic(
        representation_id=recorded.id,
        applicant_id=recorded.applicant_id,
        name=rep.name,
        date_of_birth=rep.date_of_birth,
        nationality=rep.nationality,
        residence_card_number=rep.residence_card_number,
        relationship=rep.relationship.value,
        basis=rep.basis.value,
        acting_now=may_act_today(rep, services.now().astimezone(JST).date()),
    )


@router.post("/card-challenges", status_code=201, responses=problems(*RATE_CODES))
async def create_card_challenge(
    body: CardChallengeCreate, request: Request, services: ServicesDep
) -> CardChallengePublic:
    """Start a registration or card sign-in: a single-use random challenge, valid for a short time."""
    await ratelimits.enforce(services, "card_challenge", address=client_address(request, services))
    challenge = await registration.start_card_attempt(services, ChallengePurpose(body.purpose))
    return CardChallengePublic(
        attempt_id=challenge.attempt_id,
        challenge_id=challenge.id,
        challenge=base64.b64encode(challenge.value).decode("ascii"),
        expires_at=challenge.expires_at,
    )


@router.post(
    "/registrations",
    status_code=201,
    responses=problems(
        *CARD_CODES,
        "terms.not_agreed",
        "registration.duplicate",
        "registration.pending",
        "representation.rejected",
        "representation.duplicate",
        *RATE_CODES,
    ),
)
async def create_registration(
    body: RegistrationCreate, request: Request, services: ServicesDep
) -> RegistrationPublic:
    """Register with the My Number Card: verify the card, record the account, e-mail the password set-up link."""
    await ratelimits.enforce(services, "registration", address=client_address(request, services))
    registered = await registration.register(
        services,
        card=body.card(),
        category=body.category,
        email=str(body.email),
        locale=body.locale,
        agreed_to_terms=body.agreed_to_terms,
        representation=body.representation.to_domain() if body.representation else None,
    )
    return RegistrationPublic(
        user_id=registered.user_id,
        category=registered.category,
        email=registered.email,
        setup_link_expires_at=registered.setup_link_expires_at,
        applicant_id=registered.applicant_id,
    )


@router.post(
    "/registrations/{user_id}/setup-link",
    status_code=202,
    responses=problems(
        "registration.not_found",
        "registration.completed",
        "registration.expired",
        "setup.resend_limited",
        *RATE_CODES,
    ),
)
async def create_setup_link(user_id: uuid.UUID, request: Request, services: ServicesDep) -> SetupLinkPublic:
    """Send the password set-up e-mail again (older links stop working); limited per hour."""
    await ratelimits.enforce(services, "setup_resend", address=client_address(request, services))
    return SetupLinkPublic(setup_link_expires_at=await registration.resend_setup_link(services, user_id))


@router.post("/link-checks", responses=problems(*LINK_CODES))
async def create_link_check(body: LinkCheckCreate, services: ServicesDep) -> LinkCheckPublic:
    """Tell whether an e-mailed link still works, before the password form is shown."""
    expires = await passwords.check_link(services, body.token.get_secret_value(), LinkPurpose(body.purpose))
    return LinkCheckPublic(expires_at=expires)


@router.post(
    "/password-setups",
    status_code=201,
    responses=problems(*LINK_CODES, "password.rejected", "registration.completed"),
)
async def create_password_setup(body: PasswordSetupCreate, services: ServicesDep) -> PasswordSetPublic:
    """Set the first password from the set-up link; the 認証ID is issued, shown and e-mailed."""
    done = await passwords.set_up_password(
        services, token=body.token.get_secret_value(), password=body.password.get_secret_value()
    )
    return PasswordSetPublic(
        user_id=done.user_id, auth_id=done.auth_id, password_expires_at=done.password_expires_at
    )


@router.post("/password-resets", status_code=202, responses=problems(*RATE_CODES))
async def create_password_reset(
    body: PasswordResetRequestCreate, request: Request, services: ServicesDep
) -> AcceptedPublic:
    """E-mail a password reset link; the answer (and the work before it) is the same for unknown addresses."""
    email = str(body.email)
    await ratelimits.enforce(
        services, "reset", address=client_address(request, services), account=email.strip().lower()
    )
    await passwords.queue_reset(services, email=email)
    return AcceptedPublic(
        message_ja="登録されているメールアドレスであれば、パスワード再設定用のリンクを送信しました。",
        message_en="If the address is registered, a link to reset the password has been sent to it.",
    )


@router.post("/password-resets/completions", responses=problems(*LINK_CODES, "password.rejected"))
async def create_password_reset_completion(
    body: PasswordSetupCreate, services: ServicesDep
) -> PasswordSetPublic:
    """Set a new password from the reset link; every sign-in of the account ends."""
    done = await passwords.reset_password(
        services, token=body.token.get_secret_value(), password=body.password.get_secret_value()
    )
    return PasswordSetPublic(
        user_id=done.user_id, auth_id=done.auth_id, password_expires_at=done.password_expires_at
    )


@router.post(
    "/sessions",
    status_code=201,
    responses=problems(
        "signin.invalid_credentials",
        "signin.locked",
        "signin.address_locked",
        "signin.password_expired",
        *RATE_CODES,
    ),
)
async def create_session(body: SessionCreate, request: Request, services: ServicesDep) -> SessionPublic:
    """Sign in with 認証ID and password: an access token and a refresh token."""
    address = client_address(request, services)
    typed = normalize_auth_id(body.auth_id) or body.auth_id.strip()[:64]
    await ratelimits.enforce(services, "sign_in", address=address, account=typed)
    issued = await sessions.sign_in(
        services, auth_id=body.auth_id, password=body.password.get_secret_value(), address=address
    )
    return _tokens(issued)


@router.post(
    "/sessions/card",
    status_code=201,
    responses=problems(
        *CARD_CODES,
        "signin.card_not_registered",
        "signin.category_required",
        "signin.setup_incomplete",
        *RATE_CODES,
    ),
)
async def create_card_session(
    body: CardSessionCreate, request: Request, services: ServicesDep
) -> SessionPublic:
    """Sign in with the My Number Card (authentication certificate and a signed sign-in challenge)."""
    await ratelimits.enforce(services, "sign_in", address=client_address(request, services))
    return _tokens(await sessions.sign_in_with_card(services, card=body.card(), category=body.category))


@router.post(
    "/sessions/refresh",
    responses=problems("token.refresh_invalid", "token.refresh_reused", "signin.password_expired"),
)
async def create_session_refresh(body: RefreshCreate, services: ServicesDep) -> SessionPublic:
    """Exchange a refresh token for new tokens; the old refresh token is spent."""
    return _tokens(await sessions.refresh(services, body.refresh_token.get_secret_value()))


@router.post("/sessions/sign-out", status_code=204, responses=problems())
async def create_sign_out(body: RefreshCreate, services: ServicesDep) -> Response:
    """Sign out: the refresh token and every token rotated from it are revoked."""
    await sessions.sign_out(services, body.refresh_token.get_secret_value())
    return Response(status_code=204)


@router.get("/me", responses=problems(*AUTH_CODES, "account.not_found"))
async def read_me(principal: CurrentPrincipal, services: ServicesDep) -> AccountPublic:
    """The signed-in account, its roles and the applicants it has recorded."""
    async with services.sessions() as session:
        account = await get_account(session, principal.user_id)
        if account is None:
            raise Refused("account.not_found")
        recorded = await representations.list_representations(session, account.id)
    changed = account.password_changed_at
    return AccountPublic(
        user_id=account.id,
        category=account.category,
        email=account.email,
        locale=account.locale,
        auth_id=f"{account.auth_id[:5]}-{account.auth_id[5:]}" if account.auth_id else None,
        roles=sorted(sessions.roles_of(account)),
        bureau=account.bureau,
        password_expires_at=password_expires_at(changed, services.expiry_policy) if changed else None,
        representations=[_representation(r, services) for r in recorded],
    )


@router.post(
    "/me/password",
    responses=problems(
        *AUTH_CODES,
        "account.not_found",
        "password.current_wrong",
        "password.rejected",
        "signin.locked",
        "signin.address_locked",
    ),
)
async def create_password_change(
    body: PasswordChangeCreate, request: Request, principal: CurrentPrincipal, services: ServicesDep
) -> PasswordChangedPublic:
    """Change the password (valid for another year); every other sign-in ends, wrong attempts count to the lock."""
    expires = await passwords.change_password(
        services,
        user_id=principal.user_id,
        current_password=body.current_password.get_secret_value(),
        new_password=body.new_password.get_secret_value(),
        address=client_address(request, services),
        session_id=principal.session_id,
    )
    return PasswordChangedPublic(password_expires_at=expires)


@router.get("/me/representations", responses=problems(*AUTH_CODES))
async def read_representations(
    principal: CurrentPrincipal, services: ServicesDep
) -> list[RepresentationPublic]:
    """The applicants the signed-in legal representative or relative has recorded."""
    async with services.sessions() as session:
        recorded = await representations.list_representations(session, principal.user_id)
    return [_representation(r, services) for r in recorded]


@router.post(
    "/me/representations",
    status_code=201,
    responses=problems(
        *AUTH_CODES,
        "account.not_found",
        "representation.not_allowed",
        "representation.rejected",
        "representation.duplicate",
    ),
)
async def create_representation(
    body: RepresentationCreate, principal: CurrentPrincipal, services: ServicesDep
) -> RepresentationPublic:
    """Record one more applicant to act for; it appears in ``acts_for`` from the next token on."""
    recorded = await representations.add_representation(
        services, user_id=principal.user_id, representation=body.to_domain()
    )
    return _representation(recorded, services)
