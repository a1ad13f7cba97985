"""The loopback HTTP API for the applicant's browser."""
