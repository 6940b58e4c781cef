"""Signed calls with a stored profile: ``header``, ``request``, ``verify``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import EXIT_OK, ProviderError, UsageError
from ..models import Credentials
from ..store import CredentialStore
from ..text import account_with_id, clean, provider_message
from ..urls import where
from .output import print_json
from .parser import Commands

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def register(commands: Commands) -> None:
    p = commands.add(
        "header",
        "print the Authorization header for a request (to use with curl)",
        HeaderCommand.from_args,
        example='curl -H "$(loopauth header GET https://api.x.com/2/users/me)" https://api.x.com/2/users/me',
    )
    p.add_argument("--profile", default="default", help="the profile that signs (default 'default')")
    p.add_argument("method", metavar="METHOD", help="GET, POST, …")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)

    p = commands.add(
        "request",
        "make a signed request and print the response body",
        RequestCommand.from_args,
        example="loopauth request -d 'status=hello' https://api.x.com/1.1/statuses/update.json",
    )
    p.add_argument("--profile", default="default", help="the profile that signs (default 'default')")
    p.add_argument("-X", "--method", metavar="METHOD", help="HTTP method (default GET, or POST with -d)")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)
    p.add_argument(
        "-H", "--header", action="append", default=[], metavar="'Name: value'", help="an extra header (repeatable)"
    )
    p.add_argument("-i", "--include", action="store_true", help="print the status line and headers on stderr")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up after this long (30)")

    p = commands.add(
        "verify",
        "ask the provider who a profile's token belongs to",
        VerifyCommand.from_args,
        example="loopauth verify",
    )
    p.add_argument("--profile", default="default", help="the profile to check (default 'default')")
    p.add_argument("--json", action="store_true", help="one JSON object, with the provider's answer")


def _add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a form parameter, sent x-www-form-urlencoded and signed (repeatable; UTF-8)",
    )


def parse_form(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """-d KEY=VALUE, in order and with repeats kept (a form may repeat a name)."""
    form: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-d takes KEY=VALUE, got {pair!r}")
        for text in (key, value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"-d {key[:20]!r}…: not valid UTF-8 (check the terminal's locale)") from None
        form.append((key, value))
    return form


def parse_headers(lines: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not set(name) <= _TCHAR or any(c in value for c in "\r\n\0"):
            raise UsageError(f"-H takes 'Name: value', got {line!r}")
        if name.lower() == "authorization":
            raise UsageError("-H Authorization: loopauth signs the request and sets that header itself")
        headers[name] = value
    return headers


def parse_method(name: str) -> str:
    if not name or not set(name) <= _TCHAR:
        raise UsageError(f"invalid HTTP method {name!r}")
    return name.upper()


def relogin(exc: ProviderError, creds: Credentials) -> ProviderError:
    """A rejected token's error, with the command that logs this profile in again."""
    if exc.status != 401:
        return exc
    return ProviderError(f"{exc.message} (loopauth login --profile {creds.profile})", status=exc.status, body=exc.body)


@dataclass(frozen=True)
class HeaderCommand:
    profile: str
    method: str
    url: str
    form: list[tuple[str, str]]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HeaderCommand:
        return cls(args.profile, parse_method(args.method), args.url, parse_form(args.data))

    def run(self) -> int:
        from ..calls import sign_for

        signed = sign_for(CredentialStore().load(self.profile), self.method, self.url, form=self.form)
        # The user asked for this line, secrets and all (PLAINTEXT carries them in clear).
        print(f"Authorization: {signed.headers['Authorization']}")
        return EXIT_OK


@dataclass(frozen=True)
class RequestCommand:
    profile: str
    method: str
    url: str
    form: list[tuple[str, str]]
    headers: dict[str, str]
    include: bool
    timeout: float

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RequestCommand:
        # Syntax first: a typo is reported as such even for a profile that does not exist.
        form = parse_form(args.data)
        headers = parse_headers(args.header)
        method = parse_method(args.method) if args.method is not None else ("POST" if form else "GET")
        if not args.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds")
        return cls(args.profile, method, args.url, form, headers, args.include, args.timeout)

    def run(self) -> int:
        from ..calls import request

        creds = CredentialStore().load(self.profile)
        response = request(creds, self.method, self.url, form=self.form, headers=self.headers, timeout=self.timeout)
        if self.include:
            lines = [f"{response.version} {response.status} {clean(response.reason)}".rstrip()]
            lines += [f"{clean(name)}: {clean(value)}" for name, value in response.headers]
            print("\n".join(lines) + "\n", file=sys.stderr, flush=True)
        # Exactly the bytes the provider sent: JSON, images or anything else, with no newline added.
        sys.stdout.buffer.write(response.body)
        sys.stdout.flush()
        if not response.ok:
            text = response.text()
            raise ProviderError(
                f"{self.method} {where(self.url)} answered {response.status} {clean(response.reason)}: "
                f"{provider_message(response.content_type, text)}",
                status=response.status,
                body=text,
            )
        return EXIT_OK


@dataclass(frozen=True)
class VerifyCommand:
    profile: str
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> VerifyCommand:
        return cls(args.profile, args.json)

    def run(self) -> int:
        from ..calls import verify

        creds = CredentialStore().load(self.profile)
        try:
            who = verify(creds)
        except ProviderError as exc:
            raise relogin(exc, creds) from None
        if self.json_out:
            print_json(
                {
                    "profile": creds.profile,
                    "provider": creds.provider,
                    "screen_name": who.screen_name,
                    "user_id": who.user_id,
                    "response": who.response,
                }
            )
        elif who.screen_name or who.user_id:
            print(
                f"{account_with_id(who.screen_name, who.user_id)} on {clean(creds.provider)}: "
                f"profile '{creds.profile}' is valid"
            )
        else:
            print(f"profile '{creds.profile}' is valid on {clean(creds.provider)} (its answer names no account)")
        return EXIT_OK
