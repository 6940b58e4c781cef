"""``loopauth add``: store credentials the user already has (from twurl, a developer portal, another tool).

The consumer (or OAuth 2.0 client) comes as for a login: options or the environment. The tokens never come
from the command line, which every user of the machine can read (``ps``) and the shell keeps (history): a
prompt that does not echo reads them on a terminal, and stdin does otherwise, the token on the first line and
its secret (OAuth 2.0: the refresh token, if any) on the second. They are checked with the provider's verify
endpoint, which also names the account, unless ``--no-verify``; a rejection saves nothing (exit 5). The
profile is saved as a login's is, marked as added (``origin: add``) so ``status`` tells the two apart.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import EXIT_OK, NotLoggedIn, ProviderError, StoreError, UsageError
from ..loopback.options import refuse_other_protocol
from ..models import AnyCredentials, Credentials, OAuth2Credentials, OAuth2Provider, Provider, split_scope
from ..protocols import access_for
from ..store import CredentialStore
from ..text import account_with_id, clean, has_control, is_b64token, is_printable_token
from .output import print_json
from .shared import client_secret, consumer_secret, first, foreground_terminal, replaced_note

MAX_STDIN = 64 * 1024
"""More than any two tokens; a bigger stdin is not what add expects (a file piped by mistake)."""
ORIGIN = "add"


@dataclass(frozen=True)
class AddCommand:
    profile: str | None
    provider: str
    consumer_key: str | None
    consumer_secret: str | None
    rsa_key: str | None
    client_id: str | None
    client_secret: str | None
    scope: str | None
    verify: bool
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AddCommand:
        return cls(
            args.profile,
            args.provider,
            args.consumer_key,
            consumer_secret(args),
            args.rsa_key,
            args.client_id,
            client_secret(args),
            args.scope,
            not args.no_verify,
            args.json,
        )

    def run(self) -> int:
        from ..providers import resolve_provider
        from ..store import claim_active as claim

        store = CredentialStore()
        profile = store.resolve(self.profile)
        provider = resolve_provider(self.provider, store.root)
        # Everything that can be checked without the tokens is, before anybody is asked for them.
        if isinstance(provider, OAuth2Provider):
            creds: AnyCredentials = self._oauth2(profile, provider)
        else:
            creds = self._oauth1(profile, provider)
        verified = self._verified(creds) if self.verify else None
        if verified is not None:
            creds = verified
        try:
            old: AnyCredentials | None = store.load(profile)
        except (NotLoggedIn, StoreError):
            old = None
        path = store.save(creds)
        note = replaced_note(old, creds) if old is not None else None
        if note:
            print(note, file=sys.stderr)
        if self.json_out:
            print_json({**creds.public_dict(), "path": str(path), "verified": verified is not None})
        else:
            print(_summary(creds, path, verified is not None, self.verify))
        activated = claim(store, creds.profile)
        if activated:
            print(activated, file=sys.stderr)
        return EXIT_OK

    def _oauth1(self, profile: str, provider: Provider) -> Credentials:
        from ..oauth1.consumer import consumer_for
        from ..oauth1.messages import user_id_from_token

        refuse_other_protocol(provider, self._given())
        key = self.consumer_key or os.environ.get("LOOPAUTH_CONSUMER_KEY")
        secret = first(self.consumer_secret, os.environ.get("LOOPAUTH_CONSUMER_SECRET"))
        method = "RSA-SHA1" if self.rsa_key else provider.signature_method
        if key and secret is None and method != "RSA-SHA1" and foreground_terminal():
            secret = _prompt(f"Consumer secret for {provider.name} (not shown): ")
        consumer = consumer_for(key, secret, signature_method=method, rsa_key_file=self.rsa_key)
        token, token_secret = _read_tokens(provider.name, "access token", "access token secret", second_optional=False)
        assert token_secret is not None
        return Credentials(
            profile=profile,
            provider=provider.name,
            consumer_key=consumer.key,
            consumer_secret=consumer.secret,
            oauth_token=token,
            oauth_token_secret=token_secret,
            user_id=user_id_from_token(token),
            created_at=_now(),
            endpoints=provider.replace(signature_method=consumer.signature_method),
            rsa_key_file=consumer.rsa_key_file,
            origin=ORIGIN,
        )

    def _oauth2(self, profile: str, provider: OAuth2Provider) -> OAuth2Credentials:
        refuse_other_protocol(provider, self._given())
        client_id = self.client_id or os.environ.get("LOOPAUTH_CLIENT_ID")
        if not client_id:
            raise UsageError("no client id: give --client-id (or $LOOPAUTH_CLIENT_ID)")
        client_secret = first(self.client_secret, os.environ.get("LOOPAUTH_CLIENT_SECRET"))
        access_token, refresh_token = _read_tokens(
            provider.name, "access token", "refresh token", second_optional=True, bearer=True
        )
        return OAuth2Credentials(
            profile=profile,
            provider=provider.name,
            client_id=client_id,
            client_secret=client_secret or None,
            access_token=access_token,
            refresh_token=refresh_token,
            # When it expires is not known: it is used until the provider answers 401, then refreshed (if it can).
            scope=" ".join(split_scope(self.scope)) if self.scope else None,
            created_at=_now(),
            endpoints=provider,
            origin=ORIGIN,
        )

    def _given(self) -> dict[str, object]:
        """The options given on the command line, by the name the library (and its one message) knows them by."""
        return {
            "consumer_key": self.consumer_key,
            "consumer_secret": self.consumer_secret,
            "rsa_key_file": self.rsa_key,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scopes": self.scope,
        }

    def _verified(self, creds: AnyCredentials) -> AnyCredentials | None:
        """``creds`` with the account the provider names, or None when it has no verify endpoint; ProviderError
        (exit 5, nothing saved) when it rejects them or cannot be asked."""
        from ..calls import verify

        try:
            # Not stored yet: an OAuth 2.0 401 must not send a refresh to whatever the store holds.
            try:
                who = verify(creds, refresh_on_401=False)
            except ProviderError as exc:
                access = access_for(creds)
                if not (exc.status == 401 and access.can_refresh):
                    raise
                # The access token given has expired: refresh it once with the refresh token given (the new pair
                # is what gets saved: a rotating provider has just spent the old refresh token).
                creds = access.renewed()
                who = verify(creds, refresh_on_401=False)
        except UsageError as exc:
            if "no verify endpoint" not in exc.message:
                raise
            return None
        except ProviderError as exc:
            raise ProviderError(
                f"{exc.message}; nothing saved (check the tokens and the consumer, or store them unchecked with "
                "--no-verify)",
                status=exc.status,
                body=exc.body,
            ) from None
        return creds.replace(user_id=who.user_id or creds.user_id, screen_name=who.screen_name or creds.screen_name)


def _summary(creds: AnyCredentials, path: object, verified: bool, asked: bool) -> str:
    account = account_with_id(creds.screen_name, creds.user_id) if creds.screen_name or creds.user_id else None
    if verified:
        checked = f"verified by {clean(creds.provider)}"
    elif asked:
        checked = f"not verified: {clean(creds.provider)} has no verify endpoint"
    else:
        checked = "not verified (--no-verify)"
    who = f" as {account}" if account else ""
    return (
        f"Added credentials for {clean(creds.provider)}{who} ({checked}); saved as profile '{creds.profile}' in {path}"
    )


def _read_tokens(
    provider: str, first: str, second: str, *, second_optional: bool, bearer: bool = False
) -> tuple[str, str | None]:
    """The token and its secret (or the refresh token): prompted without echo on a terminal, else two lines of stdin.

    Never from argv, where `ps` and the shell's history would keep them. Neither value is ever printed, not
    even in an error. The token must be printable ASCII (a ``bearer`` one an RFC 6750 b64token), as must a refresh
    token: what a request can carry. An OAuth 1.0a token secret only keys the signature.
    """
    if os.isatty(0):
        if not foreground_terminal():
            raise UsageError("cannot ask for the tokens: loopauth add runs in the background; pipe them to its stdin")
        optional = ", if any (Enter for none)" if second_optional else ""
        values = [
            _prompt(f"{first.capitalize()} for {provider} (not shown): "),
            _prompt(f"{second.capitalize()}{optional} (not shown): "),
        ]
    else:
        values = _two_lines()
    token, secret = values
    if not token:
        raise UsageError(f"no {first}: give it on the first line of stdin, or at the prompt on a terminal")
    if not secret and not second_optional:
        raise UsageError(f"no {second}: give it on the second line of stdin, or at the prompt on a terminal")
    for name, value in ((first, token), (second, secret)):
        if has_control(value) or " " in value:
            raise UsageError(f"the {name} has spaces or control characters: a token has none (a paste gone wrong?)")
    if bearer and not is_b64token(token):
        raise UsageError(f"the {first} has characters a bearer token cannot carry (RFC 6750: A-Z a-z 0-9 -._~+/ =)")
    for name, value in ((first, token), (second, secret) if bearer else (first, token)):
        if value and not is_printable_token(value):
            raise UsageError(f"the {name} is not printable ASCII: a token is (a paste gone wrong?)")
    return token, secret or None


def _two_lines() -> list[str]:
    """The first two lines of stdin, stripped ("" for a missing one); UsageError for anything else."""
    expected = "expected the token on the first line and its secret on the second"
    raw = sys.stdin.buffer.read(MAX_STDIN + 1) if sys.stdin is not None else b""
    if len(raw) > MAX_STDIN:
        raise UsageError(f"stdin is larger than {MAX_STDIN // 1024} KiB: {expected}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"stdin is not UTF-8 text: {expected}") from None
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > 2:
        raise UsageError(f"stdin has {len(lines)} lines: {expected}")
    return lines + [""] * (2 - len(lines))


def _prompt(text: str) -> str:
    import getpass

    try:
        return getpass.getpass(text, stream=sys.stderr).strip()
    except EOFError:
        return ""  # Ctrl-D: the usual "no …" error follows


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
