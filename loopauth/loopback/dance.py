"""What the loopback login needs from a protocol: the :class:`Dance` interface and the outcomes of a callback.

The login machinery (server, start page, browser, paste, pages, timeouts, store) knows nothing of
signatures or tokens. A protocol (``loopauth.oauth1``, ``loopauth.oauth2``) supplies a Dance: it starts the
authorization and names the page the user must visit, says what a callback (or a pasted address)
means, and exchanges an approval for credentials. The blocking steps run in a worker thread, so a
Dance is plain synchronous code over ``loopauth.http.Client``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ..errors import ProviderError
    from ..http import Client
    from ..models import AnyCredentials


@dataclass(frozen=True)
class Approved:
    """The provider sent the user back with what the exchange needs (OAuth 1.0a: the verifier; 2.0: the code)."""

    verifier: str
    typed: bool = False
    """True when a person typed or pasted it (a PIN, an address), so a rejection may be a typo worth retrying."""


@dataclass(frozen=True)
class Denied:
    """The user refused on the provider's page."""


@dataclass(frozen=True)
class Rejected:
    """Not a callback for this login; the wait goes on."""

    reason: str


@dataclass(frozen=True)
class Failed:
    """The provider sent the user back with an error for this login (OAuth 2.0's ``error=`` other than a refusal)."""

    message: str


Outcome = Approved | Denied | Rejected | Failed


class Dance(Protocol):
    """One protocol's part of a login; every method but :meth:`match`/:meth:`match_pasted` may block."""

    @property
    def provider_name(self) -> str: ...

    def begin(self, client: Client, callback: str, *, timeout: float) -> str:
        """Start the authorization for ``callback``; return the provider's page the user must visit."""
        ...

    def match(self, params: Mapping[str, str]) -> Outcome:
        """What a callback's query means for this login (after :meth:`begin`)."""
        ...

    def match_pasted(self, text: str, *, bare: bool) -> Outcome:
        """What a person pasted means: an address, a query, or (when ``bare``) a lone verifier or PIN."""
        ...

    def finish(self, client: Client, approved: Approved, *, profile: str, timeout: float) -> AnyCredentials:
        """Exchange the approval for credentials, ready to store as ``profile``."""
        ...

    def typo(self, error: ProviderError) -> bool:
        """Whether ``error`` from :meth:`finish` means a typed verifier or PIN was wrong (ask again)."""
        ...

    def discard(self, client: Client, creds: AnyCredentials, *, timeout: float) -> bool:
        """Best effort: invalidate credentials from :meth:`finish` that could not be stored. True if the provider
        confirmed; False if it cannot revoke, refused or could not be reached (never raises ProviderError)."""
        ...


# What a bare verifier or PIN can look like: one word of URL-safe characters. Anything else pasted alone is a
# slip (a sentence, half a URL) that must not be sent to the provider.
_BARE = re.compile(r"[A-Za-z0-9._~+/=%-]{1,512}")
# A base64 value with its padding ("abc==") is a bare word too, not a query.
_PADDED = re.compile(r"[A-Za-z0-9+/_-]+={1,2}")


def parse_pasted(text: str) -> dict[str, str] | str | None:
    """Read what a person pasted: the query of an address or a query string (a dict), a bare word
    (a str: a verifier or PIN), or None for nothing usable."""
    text = text.strip().strip("'\"<>")
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme and parts.netloc:
        return dict(parse_qsl(parts.query or parts.fragment, keep_blank_values=True))
    if "=" in text and not _PADDED.fullmatch(text):
        return dict(parse_qsl(text.lstrip("?"), keep_blank_values=True))
    return text if _BARE.fullmatch(text) else None


def approved(outcome: Outcome) -> Approved:
    """The approval in ``outcome``, for the manual flows; anything else as the error the user gets."""
    from ..errors import AuthorizationDenied, ProviderError, UsageError

    if isinstance(outcome, Denied):
        raise AuthorizationDenied("login denied: access was refused on the provider's page")
    if isinstance(outcome, Rejected):
        raise UsageError(f"that does not complete this login: {outcome.reason}")
    if isinstance(outcome, Failed):
        raise ProviderError(outcome.message)
    return outcome
