# syntax=docker/dockerfile:1
# Build stage: wheels for every pinned dependency (the compiler stays here).
FROM python:3.12-slim AS build
WORKDIR /build
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

# Runtime stage: no compiler, a non-root user, the app and its wheels.
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    APP_ENV=production \
    PORT=8000
RUN useradd --create-home --uid 10001 app
WORKDIR /app
# The app user writes the SQLite default (instance/) when no DATABASE_URL is given.
RUN chown app:app /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/* && rm -rf /wheels
COPY --chown=app:app . .
# The SQLite default lives here; a volume mounted on it starts owned by the app user.
RUN install -d -o app -g app /app/instance
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["./docker-entrypoint.sh"]
