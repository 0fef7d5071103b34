#!/bin/sh
# The image's entrypoint. With no arguments: migrate (unless RUN_MIGRATIONS=0), then hand the
# process to gunicorn so it receives SIGTERM directly and shuts down gracefully.
# `worker` runs the background worker instead (webhooks, emails, housekeeping): one or more
# containers of the same image beside the web ones; SIGTERM lets it finish the job in hand.
# With other arguments, run them instead, in the same environment (one-off tasks such as
# `flask --app app create-admin ...` or `flask --app app db upgrade`).
set -eu
if [ "${1:-}" = "worker" ]; then
    shift
    exec flask --app app worker "$@"
fi
if [ "$#" -gt 0 ]; then
    exec "$@"
fi
if [ "${RUN_MIGRATIONS:-1}" != "0" ]; then
    flask --app app db upgrade
fi
exec gunicorn -c gunicorn.conf.py "app:create_app()"
