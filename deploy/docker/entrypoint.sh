#!/bin/sh
# Prestart: apply migrations, then serve. MODULE is the service's python package.
set -e
MODULE=$(echo "$SERVICE" | tr '-' '_')
if [ -f alembic.ini ]; then
  PREFIX=$(echo "$SERVICE" | tr 'a-z-' 'A-Z_')
  RAS_MIGRATION_DATABASE_URL=$(printenv "${PREFIX}_DATABASE_URL") alembic -c alembic.ini upgrade head
fi
# shared.serve: uvicorn with the header, keep-alive and body limits every service faces clients with.
# --no-proxy-headers: the client address is never rewritten from X-Forwarded-For by uvicorn (docs/adr/0011).
exec python -m shared.serve "${MODULE}.main:app_from_env" --host 0.0.0.0 --port 8000 --no-proxy-headers
