"""Versioned reference data of the applications service.

Procedures, statuses of residence in scope, who may file what, allowed combinations, form definitions, required
attachments, fees and policy values live in YAML version files under ``data/`` (``<effective date>.<topic>.yaml``).
A file replaces whole sections from its effective date; ``ReferenceData.as_of(day)`` returns the snapshot in force.
Every version is validated when the data is loaded, so bad data stops the service at start.
"""

from applications.reference.loader import ReferenceData, default_data_directory, load_reference_data
from applications.reference.models import ReferenceSnapshot

__all__ = ["ReferenceData", "ReferenceSnapshot", "default_data_directory", "load_reference_data"]
