"""The attachments domain: rounds, upload rules, declarations and refusals (no framework imports)."""
