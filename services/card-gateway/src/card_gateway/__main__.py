"""``python -m card_gateway``: the diagnostic CLI."""

from card_gateway.entrypoints.cli import main

raise SystemExit(main())
