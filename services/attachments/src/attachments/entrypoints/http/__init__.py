"""HTTP entrypoints of the attachments service: thin translators between requests and the service layer."""
