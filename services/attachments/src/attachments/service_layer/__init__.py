"""Use cases of the attachments service, each in one transaction (the session's ``begin()`` is the unit of work)."""
