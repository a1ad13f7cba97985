"""HTTP entrypoints: reference data, applicants' routes and the back office; thin translators to the service layer."""
