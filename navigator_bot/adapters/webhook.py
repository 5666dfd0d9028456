"""The webhook server: Telegram's updates over HTTPS (through a reverse proxy), checked before they are read.

In order, before anything is parsed: the path (the public URL's path, prefix kept, then a hash of the token), the
body's declared size (capped, so a stranger cannot make the process buffer large bodies), the secret header
(compared in constant time). Only then is the body read, turned into an `Update` and put on the application's
queue — which writes it to the inbox — and only then does Telegram get its 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter

from ..config import Settings

if TYPE_CHECKING:
    from telegram.ext import Application

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def listening_path(webhook_url: str, hashed: str) -> str:
    """Return the path the server listens on: the URL's own path (a proxy's prefix) followed by the hashed part."""
    prefix = urlsplit(webhook_url).path.strip("/")
    return "/" + "/".join(part for part in (prefix, hashed) if part)


def public_url(webhook_url: str, hashed: str) -> str:
    """Return the URL given to Telegram: the configured URL with the hashed part appended."""
    return webhook_url.rstrip("/") + "/" + hashed


def build_webhook_app(application: Application[Any, Any, Any, Any, Any, Any], path: str, secret: str,
                      max_body: int) -> web.Application:
    """Return the aiohttp application that receives updates on `path`."""

    async def receive(request: web.Request) -> web.Response:
        length = request.content_length
        if length is None:
            return web.Response(status=411)  # Telegram always sends Content-Length
        if length > max_body:
            return web.Response(status=413)
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError) as error:  # the content is never logged
            log.warning("webhook_bad_update error=%s", type(error).__name__)
            return web.Response(status=400)
        if update is None:
            return web.Response(status=400)
        queue = application.update_queue
        raw = getattr(queue, "raw", None)
        if raw is not None:
            raw[update.update_id] = json.dumps(data, ensure_ascii=False)  # stored as received
        await queue.put(update)  # on disk before Telegram hears 200
        return web.Response(status=200)

    app = web.Application(client_max_size=max_body)
    app.router.add_post(path, receive)
    return app


async def _set_webhook(application: Application[Any, Any, Any, Any, Any, Any], url: str, secret: str) -> None:
    """Register the webhook, waiting out an API outage (an invalid token is not retried)."""
    delay = 1.0
    while True:
        try:
            await application.bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES,
                                              drop_pending_updates=False)
            return
        except InvalidToken:
            raise
        except RetryAfter as error:
            wait = error.retry_after
            await asyncio.sleep(wait if isinstance(wait, int | float) else wait.total_seconds())
        except NetworkError as error:
            log.warning("set_webhook failed (%s); retrying in %.0f s", type(error).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)


async def serve(application: Application[Any, Any, Any, Any, Any, Any], settings: Settings, hashed: str) -> None:
    """Run the bot in webhook mode until SIGINT or SIGTERM."""
    assert settings.webhook_url and settings.webhook_secret
    path = listening_path(settings.webhook_url, hashed)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    runner = web.AppRunner(build_webhook_app(application, path, settings.webhook_secret, settings.webhook_max_body))
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
        await site.start()
        log.info("webhook listening on %s:%d", settings.webhook_listen, settings.webhook_port)
        await application.start()
        await _set_webhook(application, public_url(settings.webhook_url, hashed), settings.webhook_secret)
        await stop.wait()
    finally:
        await runner.cleanup()
        if application.running:
            await application.stop()
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
