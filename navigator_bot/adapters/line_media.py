"""Files LINE fetches by address: the KPI chart, the 相談メモ picture, the KPI table as CSV.

LINE cannot receive an uploaded image from a bot; it fetches it from an HTTPS address. Each file is written under
the data folder with a random 256-bit name, served only at that unguessable path, and deleted when it expires
(`NAVIGATOR_LINE_MEDIA_TTL_HOURS`, one day by default). A memo picture shows which windows a person looked at:
the expiry and the random name keep it theirs.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

MEDIA_ROUTE = "/line/media/{name}"
_NAME = re.compile(r"[A-Za-z0-9_-]{43}\.(png|csv)")
_TYPES = {"png": "image/png", "csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class MediaStore:
    """A folder of expiring files, each served at `<public_url>/line/media/<random name>`."""

    folder: Path
    public_url: str | None
    ttl: dt.timedelta

    def put(self, data: bytes, suffix: str, now: dt.datetime) -> str | None:
        """Store `data` and return its HTTPS address, or None when no public address is configured."""
        if not self.public_url or suffix not in _TYPES:
            return None
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{secrets.token_urlsafe(32)}.{suffix}"
        path = self.folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        stamp = now.timestamp()
        os.utime(path, (stamp, stamp))
        return f"{self.public_url.rstrip('/')}/line/media/{name}"

    def read(self, name: str, now: dt.datetime) -> tuple[bytes, str] | None:
        """Return a stored file and its content type, or None when unknown, malformed or expired."""
        match = _NAME.fullmatch(name)
        if match is None:
            return None
        path = self.folder / name
        try:
            if now.timestamp() - path.stat().st_mtime > self.ttl.total_seconds():
                return None
            return path.read_bytes(), _TYPES[match.group(1)]
        except OSError:
            return None

    def purge(self, now: dt.datetime) -> int:
        """Delete expired files; the number deleted."""
        removed = 0
        if not self.folder.is_dir():
            return 0
        for path in self.folder.iterdir():
            try:
                if _NAME.fullmatch(path.name) and now.timestamp() - path.stat().st_mtime > self.ttl.total_seconds():
                    path.unlink()
                    removed += 1
            except OSError:
                continue
        return removed

    def handler(self, clock: Callable[[], dt.datetime]) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Return the aiohttp handler that serves the files (404 for anything unknown or expired)."""

        async def serve(request: web.Request) -> web.Response:
            found = self.read(request.match_info["name"], clock())
            if found is None:
                return web.Response(status=404)
            body, content_type = found
            return web.Response(body=body, headers={"Content-Type": content_type,
                                                    "Cache-Control": "private, max-age=3600",
                                                    "X-Content-Type-Options": "nosniff"})

        return serve
