"""Signed calls with a stored profile: ``header``, ``request``, ``verify``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from ..errors import EXIT_OK, ProviderError, UsageError
from ..fresh import load_fresh
from ..models import AnyCredentials
from ..protocols import access_for
from ..text import account_with_id, clean, provider_message
from ..urls import where
from .errors import profile_hint
from .output import print_json

if TYPE_CHECKING:
    from ..http import Trace
    from .bodies import Body

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


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


def tracer(verbose: bool, creds: AnyCredentials) -> Trace | None:
    """``-v``'s trace on stderr, told the profile's secrets so they are redacted wherever they appear."""
    if not verbose:
        return None
    from ..trace import Tracer

    return Tracer(secrets=_secrets_of(creds))


def _secrets_of(creds: AnyCredentials) -> list[str | None]:
    return list(access_for(creds).secrets)


class HeaderCommand(NamedTuple):
    profile: str | None
    method: str
    url: str
    form: list[tuple[str, str]]
    verbose: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> HeaderCommand:
        return cls(args.profile, parse_method(args.method), args.url, parse_form(args.data), args.verbose)

    def run(self) -> int:
        from ..calls import sign_for

        creds = _load(self.profile)
        signed = sign_for(creds, self.method, self.url, form=self.form)
        if self.verbose:
            from ..trace import trace_lines

            print("\n".join(trace_lines(signed, secrets=_secrets_of(creds))), file=sys.stderr, flush=True)
        # The user asked for this line, secrets and all (PLAINTEXT carries them in clear).
        print(f"Authorization: {signed.headers['Authorization']}")
        return EXIT_OK


def _load(profile: str | None) -> AnyCredentials:
    """The profile, refreshed when due; a refresh that cannot reach the provider says what helps, as a call does."""
    from ..store import CredentialStore

    store = CredentialStore()
    try:
        return load_fresh(profile, store)
    except ProviderError as exc:
        # Read again only on this path: load_fresh does not hand back what it read before failing.
        raise profile_hint(exc, store.load(store.resolve(profile))) from None


class RequestCommand(NamedTuple):
    profile: str | None
    method: str
    url: str
    form: list[tuple[str, str]]
    headers: dict[str, str]
    include: bool
    timeout: float
    body: bytes | None = None
    verbose: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RequestCommand:
        # Syntax first: a typo is reported as such even for a profile that does not exist.
        form = parse_form(args.data)
        headers = parse_headers(args.header)
        body = _body(args, headers)
        if body is not None and form:
            raise UsageError("-d makes a signed form body; it cannot go with --json, --data-raw, --data-binary or -F")
        if body is not None:
            headers = {**headers, **body.headers}
        method = parse_method(args.method) if args.method is not None else ("POST" if form or body else "GET")
        if not args.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds")
        data = body.data if body is not None else None
        return cls(args.profile, method, args.url, form, headers, args.include, args.timeout, data, args.verbose)

    def run(self) -> int:
        from ..calls import request

        creds = _load(self.profile)
        try:
            response = request(
                creds,
                self.method,
                self.url,
                form=self.form,
                headers=self.headers,
                body=self.body,
                timeout=self.timeout,
                trace=tracer(self.verbose, creds),
            )
        except ProviderError as exc:
            raise profile_hint(exc, creds) from None
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


def _body(args: argparse.Namespace, headers: dict[str, str]) -> Body | None:
    from .bodies import json_body, multipart_body, raw_body

    if args.form and (args.json is not None or args.data_raw is not None or args.data_binary is not None):
        raise UsageError("-F makes a multipart body; it cannot go with --json, --data-raw or --data-binary")
    if args.json is not None:
        return json_body(args.json, headers)
    if args.data_raw is not None:
        return raw_body(args.data_raw, "--data-raw", headers)
    if args.data_binary is not None:
        return raw_body(args.data_binary, "--data-binary", headers)
    if args.form:
        return multipart_body(args.form, headers)
    return None


class VerifyCommand(NamedTuple):
    profile: str | None
    json_out: bool
    verbose: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> VerifyCommand:
        return cls(args.profile, args.json, args.verbose)

    def run(self) -> int:
        from ..calls import verify

        creds = _load(self.profile)
        try:
            who = verify(creds, trace=tracer(self.verbose, creds))
        except ProviderError as exc:
            raise profile_hint(exc, creds) from None
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
