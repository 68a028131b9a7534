"""The WSGI application: a list page, a detail page and a health check."""

import html
import json

from lettings.data import LETTINGS, find

VERSION = "1.0"


def _respond(start_response, status, body, content_type="text/html; charset=utf-8"):
    payload = body.encode("utf-8")
    start_response(
        status,
        [("Content-Type", content_type), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def index_page():
    items = "".join(
        f"<li><a href='/lettings/{item['id']}'>{html.escape(item['title'])}</a>"
        f" in {html.escape(item['city'])}</li>"
        for item in LETTINGS
    )
    return f"<!doctype html><title>Lettings</title><h1>Lettings</h1><ul>{items}</ul>"


def detail_page(letting):
    return (
        f"<!doctype html><title>{html.escape(letting['title'])}</title>"
        f"<h1>{html.escape(letting['title'])}</h1>"
        f"<p>{letting['rooms']} room(s) in {html.escape(letting['city'])}</p>"
    )


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        return _respond(start_response, "200 OK", index_page())
    if path == "/health":
        body = json.dumps({"status": "ok", "version": VERSION})
        return _respond(start_response, "200 OK", body, "application/json")
    if path.startswith("/lettings/"):
        tail = path[len("/lettings/"):]
        letting = find(int(tail)) if tail.isdigit() else None
        if letting is not None:
            return _respond(start_response, "200 OK", detail_page(letting))
    return _respond(start_response, "404 Not Found", "<h1>Not found</h1>")
