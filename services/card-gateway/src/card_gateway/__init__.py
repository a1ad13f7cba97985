"""card-gateway: the only code of the project that touches card readers (PC/SC through pyscard).

Owns: reader discovery, My Number Card detection, JPKI certificate reads, PIN tries and card signatures, served to the
applicant's browser by a loopback-only HTTP API (origin allow-list) and to people by a diagnostic CLI.
Publishes: nothing. Consumes: nothing. It runs on the applicant's PC or a counter kiosk and never holds bus credentials.
"""
