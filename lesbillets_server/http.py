"""Plain HTTP on the websocket port: health, the protocol page and its JSON Schema."""

from __future__ import annotations

import functools
import html
import json
from importlib import resources
from pathlib import Path

from markdown_it import MarkdownIt
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from lesbillets_server.health import WriteHealth
from lesbillets_server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from lesbillets_server.metrics import Metrics
from protocol.codec import json_schema

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Les Billets protocol</title>
<style>body{{max-width:60rem;margin:2rem auto;padding:0 1rem;font-family:system-ui,sans-serif;line-height:1.5}}
pre{{background:#f4f4f4;padding:.75rem;overflow:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.25rem .5rem}}</style></head><body>
{body}
</body></html>
"""


def protocol_markdown() -> str:
    """docs/protocol.md: packaged inside `protocol` in a wheel, read from the tree in a checkout."""
    packaged = resources.files("protocol").joinpath("protocol.md")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    in_tree = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
    if in_tree.is_file():
        return in_tree.read_text(encoding="utf-8")
    return "# Les Billets protocol\n\nThe protocol page is not installed with this server."


@functools.cache
def _docs_html() -> bytes:
    body = MarkdownIt("commonmark").enable("table").render(protocol_markdown())
    return _PAGE.format(body=body).encode()


@functools.cache
def _schema_json() -> bytes:
    return json.dumps(json_schema(), indent=2).encode()


def _response(status: int, reason: str, content_type: str, body: bytes) -> Response:
    headers = Headers({"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"})
    return Response(status, reason, headers, body)


def unavailable(reason: str) -> Response:
    """HTTP 503 for a websocket handshake the server will not take now; `reason` is a sentence."""
    response = _response(503, "Service Unavailable", "text/plain; charset=utf-8", f"{reason}\n".encode())
    response.headers["Retry-After"] = "60"
    return response


def _healthz(health: WriteHealth) -> Response:
    """503 while the latest write (a request's, or the sweeper's probe when idle) failed; it never writes itself."""
    if health.problem is None:
        return _response(200, "OK", "text/plain; charset=utf-8", b"ok\n")
    # no path here: anyone may ask, and the log names the file
    body = f"The server cannot write to its database: {health.problem}. Changes fail until it can.\n"
    return _response(503, "Service Unavailable", "text/plain; charset=utf-8", body.encode())


def process_request(
    connection: ServerConnection, request: Request, *, health: WriteHealth, metrics: Metrics
) -> Response | None:
    """Answer the HTTP paths; let websocket upgrades through (None)."""
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return None
    path = request.path.split("?", 1)[0]
    if path == "/healthz":
        return _healthz(health)
    if path == "/metrics":
        return _response(200, "OK", METRICS_CONTENT_TYPE, metrics.render())
    if path == "/docs":
        return _response(200, "OK", "text/html; charset=utf-8", _docs_html())
    if path == "/schema.json":
        return _response(200, "OK", "application/schema+json", _schema_json())
    body = f"Not found: {html.escape(path)}. Try /docs, /schema.json or /healthz; websocket clients connect here.\n"
    return _response(404, "Not Found", "text/plain; charset=utf-8", body.encode())
