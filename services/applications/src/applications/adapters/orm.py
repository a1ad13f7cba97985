"""Tables of the applications service (SQLAlchemy Core, with the project's naming convention)."""

from shared.db import new_metadata

metadata = new_metadata()
