"""The bodies ``loopauth request`` sends besides a signed form: ``--json``, ``--data-raw``, ``--data-binary``, ``-F``.

Only an ``application/x-www-form-urlencoded`` body takes part in an OAuth 1.0a signature (RFC 5849
§3.4.1.3); these are sent as they are, unsigned, as curl and twurl do. So a raw body must say what
it is (``-H 'Content-Type: …'``), and may not claim to be a form: that one is ``-d KEY=VALUE``,
which is signed.
"""

from __future__ import annotations

import json
import mimetypes
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..urls import FORM_CONTENT_TYPE


@dataclass(frozen=True)
class Body:
    """A request body and the headers it brings (Content-Type, and Accept for JSON)."""

    data: bytes
    headers: Mapping[str, str]


def read_arg(value: str, option: str) -> bytes:
    """``@FILE`` (``@-``: stdin) as its bytes, anything else as UTF-8 text, as curl reads its data options."""
    if not value.startswith("@"):
        return value.encode("utf-8", "surrogateescape")
    name = value[1:]
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).expanduser().read_bytes()
    except OSError as exc:
        raise UsageError(f"{option} {value}: cannot read {name}: {exc.strerror or exc}") from None


def has_header(headers: Mapping[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def json_body(value: str, headers: Mapping[str, str]) -> Body:
    """``--json TEXT|@FILE``: checked to be JSON (a quoting slip in the shell is caught here, not by the API)."""
    data = read_arg(value, "--json")
    try:
        json.loads(data)
    except ValueError as exc:
        raise UsageError(f"--json: not valid JSON ({exc})") from None
    added = {}
    if has_header(headers, "Content-Type") is None:
        added["Content-Type"] = "application/json"
    if has_header(headers, "Accept") is None:
        added["Accept"] = "application/json"
    return Body(data, added)


def raw_body(value: str, option: str, headers: Mapping[str, str]) -> Body:
    """``--data-raw TEXT`` or ``--data-binary TEXT|@FILE``, with the Content-Type the user gave."""
    data = value.encode("utf-8", "surrogateescape") if option == "--data-raw" else read_arg(value, option)
    content_type = has_header(headers, "Content-Type")
    if content_type is None:
        raise UsageError(
            f"{option} needs the body's type: add -H 'Content-Type: …' (a form is -d KEY=VALUE, which is signed)"
        )
    if content_type.split(";")[0].strip().lower() == FORM_CONTENT_TYPE:
        # RFC 5849 §3.4.1.3: a form body is part of the signature; sent raw, it would be refused.
        raise UsageError(f"a form body must be signed: give its fields as -d KEY=VALUE instead of {option}")
    return Body(data, {})


def multipart_body(fields: Sequence[str], headers: Mapping[str, str]) -> Body:
    """``-F name=value`` and ``-F name=@file[;type=MIME]`` as one ``multipart/form-data`` body (RFC 7578)."""
    if has_header(headers, "Content-Type") is not None:
        raise UsageError("-F makes its own Content-Type (multipart/form-data with a boundary); drop the -H one")
    boundary = f"loopauth-{os.urandom(12).hex()}"
    parts: list[bytes] = []
    for field in fields:
        name, sep, value = field.partition("=")
        if not sep or not name:
            raise UsageError(f"-F takes NAME=VALUE or NAME=@FILE, got {field[:40]!r}")
        if any(c in name for c in '"\r\n'):
            raise UsageError(f"-F: a field name cannot hold quotes or line breaks: {name[:40]!r}")
        disposition = f'form-data; name="{name}"'
        head = ""
        if value.startswith("@"):
            path, _, mime = value[1:].partition(";type=")
            data = read_arg(f"@{path}", "-F")
            filename = Path(path).name.replace('"', "").replace("\r", "").replace("\n", "")
            disposition += f'; filename="{filename}"'
            guessed = mimetypes.guess_type(filename)[0]
            head = f"Content-Type: {mime or guessed or 'application/octet-stream'}\r\n"
        else:
            data = value.encode("utf-8", "surrogateescape")
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{head}\r\n".encode() + data + b"\r\n")
    data = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return Body(data, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
