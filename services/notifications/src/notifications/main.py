"""Composition root of the notifications service: `create_app(settings)` builds the FastAPI app."""

from __future__ import annotations

from fastapi import FastAPI

from notifications.adapters.smtp import AiosmtplibSender
from notifications.config import NotificationsSettings
from notifications.entrypoints.consumers import register
from notifications.entrypoints.http.routes import router
from notifications.service_layer.deliveries import DeliveryWorker, MailSender
from shared.service import ServiceRuntime, build_app

SERVICE = "notifications"


def create_app(settings: NotificationsSettings, *, sender: MailSender | None = None) -> FastAPI:
    """Return the notifications app: consumers, the delivery worker, the outbox relay and the operator API."""
    runtime = ServiceRuntime(SERVICE, settings)
    worker = DeliveryWorker(
        runtime.sessions,
        sender or AiosmtplibSender(settings.smtp),
        mail=settings.mail,
        policy=settings.delivery,
    )
    register(runtime, settings.mail, worker)
    runtime.background.append(worker.run)
    app = build_app(runtime, title="RAS notifications", routers=[router])
    app.state.delivery_worker = worker
    app.state.mail_settings = settings.mail
    return app


def app_from_env() -> FastAPI:
    """Uvicorn factory: read the settings from the environment (fails fast when incomplete)."""
    return create_app(NotificationsSettings())
