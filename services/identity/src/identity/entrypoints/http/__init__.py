"""HTTP entrypoints of the identity service: thin translators from requests to use cases."""

from identity.entrypoints.http.routes import router

__all__ = ["router"]
