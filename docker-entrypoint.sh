#!/bin/sh
# The image's entrypoint: migrate (unless RUN_MIGRATIONS=0), then hand the process to gunicorn
# so it receives SIGTERM directly and shuts down gracefully.
set -eu
if [ "${RUN_MIGRATIONS:-1}" != "0" ]; then
    flask --app app db upgrade
fi
exec gunicorn -c gunicorn.conf.py "app:create_app()"
