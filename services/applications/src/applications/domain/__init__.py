"""Pure domain core of the applications service: no framework, database or broker code.

Owns eligibility (who may file what, online scope, the last-day rule), form validation (ja/en messages), the
Application aggregate and its state machine (draft → submitted → received → under review ⇄ returned → review
completed → card dispatched → closed; withdrawn; refused), receipt numbers, fees due, and every domain error
(:mod:`applications.domain.errors`). Reference data comes from :mod:`applications.reference`. The aggregate records
domain events (:mod:`applications.domain.events`) for the service layer to publish through the outbox.
"""
