"""Use cases of the identity service: one module per area, each handler owning its transaction."""
