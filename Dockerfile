# Aomori Support Navigator — one container per bot token (Telegram allows one poller per token).
#   docker build -t aomori-navigator .
#   docker run -e NAVIGATOR_TELEGRAM_TOKEN=... -v navigator-data:/data aomori-navigator
# LINE instead (a webhook server on 8080 behind the HTTPS proxy; its own data volume):
#   docker run -e NAVIGATOR_LINE_CHANNEL_SECRET=... -e NAVIGATOR_LINE_CHANNEL_ACCESS_TOKEN=... \
#     -e NAVIGATOR_LINE_PUBLIC_URL=https://bot.example.jp/navigator -p 127.0.0.1:8080:8080 \
#     -v navigator-line-data:/data aomori-navigator navigator-bot run --channel line
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NAVIGATOR_DATA_DIR=/data \
    NAVIGATOR_CATALOG_DIR=/app/catalog \
    NAVIGATOR_WEBHOOK_LISTEN=0.0.0.0

WORKDIR /app

# The same install path as the Makefile: pip installs the project from pyproject.toml.
COPY pyproject.toml README.md ./
COPY navigator_bot ./navigator_bot
COPY catalog ./catalog
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin navigator \
    && mkdir -p /data \
    && chown navigator /data \
    && navigator-bot validate

# /app/catalog is baked in; mount another folder over it (read-only is fine) to change the catalog without a rebuild.
VOLUME ["/data"]
USER navigator
# Inside the container the webhook listens on every interface; publish it to the host's loopback only
# (docker run -p 127.0.0.1:8443:8443), where the HTTPS reverse proxy reaches it.
EXPOSE 8443 8080

HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 CMD ["navigator-bot", "health"]

# Exec form: the bot runs as PID 1 and receives SIGTERM itself, so it shuts down cleanly.
CMD ["navigator-bot", "run"]
