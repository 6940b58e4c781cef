"""The demo provider's API: a few of Twitter's endpoints, enough for the README's examples, and an echo for tests.

Each handler gets a request whose signature :class:`~loopauth.demo.server.DemoProvider` has already
verified, the account its token belongs to, and the provider's small in-memory state. Errors come
in Twitter's shapes: v1.1's ``{"errors":[{"code":…,"message":…}]}`` and v2's problem objects.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from aiohttp import web

from .base import params_object
from .validator import AccessTokenRecord

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Signed:
    """A request exactly as the client sent it, which is what RFC 5849 §3.4.1 signs."""

    uri: str
    method: str
    body: str
    headers: dict[str, str]
    raw: bytes = b""

    @property
    def content_type(self) -> str:
        """The full Content-Type header (parameters included), or ``""``."""
        return {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")

    @property
    def media_type(self) -> str:
        return self.content_type.split(";")[0].strip().lower()

    @property
    def is_form(self) -> bool:
        return self.media_type == FORM_CONTENT_TYPE

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.uri).query, keep_blank_values=True)

    @property
    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body, keep_blank_values=True) if self.is_form else []


@dataclass
class State:
    """What the API remembers between calls: the tweets posted, by id."""

    tweets: dict[str, str] = field(default_factory=dict)
    next_id: int = 1_000_000_000_000_000_001

    def post(self, text: str) -> str:
        tweet_id = str(self.next_id)
        self.next_id += 1
        self.tweets[tweet_id] = text
        return tweet_id


def json_response(data: Any, *, status: int = 200) -> web.Response:
    """JSON as Twitter sends it: UTF-8 text, not ``\\u`` escapes."""
    return web.json_response(data, status=status, dumps=functools.partial(json.dumps, ensure_ascii=False))


Handler = Callable[[web.Request, AccessTokenRecord, Signed, State], Awaitable[web.Response]]


def twitter_error(code: int, message: str, status: int) -> web.Response:
    """Twitter API v1.1's error shape (also its OAuth endpoints')."""
    return json_response({"errors": [{"code": code, "message": message}]}, status=status)


def problem(status: int, title: str, detail: str) -> web.Response:
    """Twitter API v2's error shape."""
    kind = "https://api.twitter.com/2/problems/" + title.lower().replace(" ", "-")
    return json_response({"title": title, "detail": detail, "type": kind}, status=status)


def _user(user: AccessTokenRecord) -> dict[str, Any]:
    return {"id": int(user.user_id), "id_str": user.user_id, "screen_name": user.screen_name, "name": "loopauth demo"}


def _someone(screen_name: str) -> dict[str, Any]:
    """Any other account: a made-up one, the same every time for the same name."""
    number = int.from_bytes(hashlib.sha256(screen_name.lower().encode()).digest()[:6], "big")
    return {"id": number, "id_str": str(number), "screen_name": screen_name, "name": screen_name}


async def users_show(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """GET /1.1/users/show.json?screen_name=NAME"""
    name = dict(signed.query).get("screen_name", "")
    if not name:
        return twitter_error(50, "User not found.", 404)
    return json_response(_user(user) if name.lower() == user.screen_name.lower() else _someone(name))


async def statuses_update(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """POST /1.1/statuses/update.json with a signed form ``status=…``."""
    status = dict(signed.form).get("status")
    if not status:
        return twitter_error(170, "Missing required parameter: status.", 400)
    tweet_id = state.post(status)
    return json_response({"id": int(tweet_id), "id_str": tweet_id, "text": status, "user": _user(user)})


async def tweets_create(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """POST /2/tweets with a JSON body ``{"text": …}`` (not signed, as RFC 5849 has it)."""
    if signed.media_type != "application/json":
        return problem(400, "Invalid Request", "The request body must be JSON (Content-Type: application/json).")
    try:
        body: Any = json.loads(signed.raw)
    except ValueError:
        return problem(400, "Invalid Request", "The request body is not valid JSON.")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text:
        return problem(400, "Invalid Request", "The `text` field is required.")
    return json_response({"data": {"id": state.post(text), "text": text}}, status=201)


async def tweets_delete(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """DELETE /2/tweets/{id}"""
    deleted = state.tweets.pop(request.match_info["id"], None) is not None
    return json_response({"data": {"deleted": deleted}})


async def users_me(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """GET /2/users/me"""
    return json_response({"data": {"id": user.user_id, "name": "loopauth demo", "username": user.screen_name}})


async def media_upload(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """POST /1.1/media/upload.json with a multipart ``media`` file, as twurl's ``-f`` sends it."""
    parts = {p["name"]: p for p in multipart_parts(signed)}
    media = parts.get("media")
    if media is None or "filename" not in media:
        return twitter_error(38, "media parameter is missing.", 400)
    media_id = state.post(f"(media {media['filename']})")
    return json_response(
        {"media_id": int(media_id), "media_id_string": media_id, "size": media["size"], "sha256": media["sha256"]}
    )


async def echo(request: web.Request, user: AccessTokenRecord, signed: Signed, state: State) -> web.Response:
    """Any method on /1.1/echo: what the provider received, decoded (for the tests)."""
    return json_response(
        {
            "method": signed.method,
            "query": json_params(signed.query),
            "form": json_params(signed.form),
            **describe_body(signed),
            "user_id": user.user_id,
            "screen_name": user.screen_name,
        }
    )


ROUTES: list[tuple[str, str, str, Handler]] = [
    ("GET", "/1.1/users/show.json", "users_show", users_show),
    ("POST", "/1.1/statuses/update.json", "statuses_update", statuses_update),
    ("POST", "/1.1/media/upload.json", "media_upload", media_upload),
    ("POST", "/2/tweets", "tweets_create", tweets_create),
    ("DELETE", "/2/tweets/{id}", "tweets_delete", tweets_delete),
    ("GET", "/2/users/me", "users_me", users_me),
    ("*", "/1.1/echo", "echo", echo),
]
"""(method, path, the endpoint's name (what ``delay`` and ``_enter`` go by), handler)."""


def json_params(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """The request's own parameters as a JSON object (OAuth's are left out)."""
    return params_object((name, value) for name, value in pairs if not name.startswith("oauth_"))


def describe_body(signed: Signed) -> dict[str, Any]:
    """A body that is not a form: its type and size, then its JSON, its multipart parts, or its text."""
    if not signed.raw or signed.is_form:
        return {}
    described: dict[str, Any] = {
        "content_type": signed.content_type,
        "body_length": len(signed.raw),
        "body_sha256": hashlib.sha256(signed.raw).hexdigest(),
    }
    if signed.media_type == "application/json":
        try:
            described["json"] = json.loads(signed.raw)
        except ValueError:
            described["json_error"] = "not valid JSON"
    elif signed.media_type == "multipart/form-data":
        described["parts"] = multipart_parts(signed)
    else:
        with contextlib.suppress(UnicodeDecodeError):  # binary: its length and hash say enough
            described["text"] = signed.raw.decode("utf-8")
    return described


def multipart_parts(signed: Signed) -> list[dict[str, Any]]:
    """The parts of a ``multipart/form-data`` body: name, then a file's name, type, size and hash, or a value."""
    head = f"Content-Type: {signed.content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + signed.raw)
    if not isinstance(message, EmailMessage) or not message.is_multipart():
        return []
    parts: list[dict[str, Any]] = []
    for part in message.iter_parts():
        assert isinstance(part, EmailMessage)
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        entry: dict[str, Any] = {"name": str(name) if name else ""}
        filename = part.get_filename()
        if filename is not None:
            entry.update(
                filename=filename,
                content_type=part.get_content_type(),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        else:
            entry["value"] = data.decode("utf-8", "replace")
        parts.append(entry)
    return parts
