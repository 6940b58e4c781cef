"""What an OAuth 1.0a provider sends, read as pure functions: token answers, callbacks, error hints.

No I/O here; :mod:`loopauth.oauth1.dance` does the calls.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..errors import ProviderError
from ..http import Request
from ..loopback.dance import Approved, Denied, Outcome, Rejected
from ..models import Provider
from ..text import has_control, is_printable_token, parse_json, provider_message


def authorize_url(provider: Provider, request_token: str, extra: Mapping[str, str] | None = None) -> str:
    """The provider page the user must visit (RFC 5849 §2.2), with any extra parameters."""
    parts = urlsplit(provider.authorize_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True)]
    params = {**provider.authorize_params, **(extra or {})}
    query += [(k, v) for k, v in params.items() if k != "oauth_token"]
    query.append(("oauth_token", request_token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class RefusedTokens(ProviderError):
    """A 2xx token answer with tokens loopauth will not store (not printable ASCII): ``fields`` holds them, so that
    an access token the provider issued can be revoked."""

    def __init__(self, message: str, *, status: int, fields: Mapping[str, str]) -> None:
        super().__init__(message, status=status)
        self.fields = dict(fields)


def parse_token_response(
    status: int,
    content_type: str,
    text: str,
    *,
    step: str,
    require_callback_confirmed: bool = False,
    sent: Request | None = None,
) -> dict[str, str]:
    """Parse a request-token or access-token response (RFC 5849 §2.1, §2.3).

    Raises :class:`ProviderError` carrying the status and the provider's own message for anything
    that is not a 2xx form-encoded body with ``oauth_token`` and ``oauth_token_secret``; the secret values
    of ``sent`` (the request, when given) are left out of both, should the provider echo them.
    """

    def echo_free() -> str:
        if sent is None:
            return text
        from ..trace import without_sent

        return without_sent(sent, text)

    if not 200 <= status < 300:
        shown = echo_free()
        raise ProviderError(
            f"{step} failed: provider answered {status}: {provider_message(content_type, shown)}",
            status=status,
            body=shown,
        )
    try:
        fields = dict(parse_qsl(text.strip(), keep_blank_values=True, strict_parsing=True))
    except ValueError:
        fields = {}
    if not fields.get("oauth_token") or not fields.get("oauth_token_secret"):
        shown = echo_free()
        raise ProviderError(
            f"{step} failed: provider answered {status} without oauth_token and oauth_token_secret: "
            f"{provider_message(content_type, shown)}",
            status=status,
            body=shown,
        )
    if not is_printable_token(fields["oauth_token"]) or has_control(fields["oauth_token_secret"]):
        # The Authorization header carries the token: printable ASCII only, nothing a header cannot carry (U+2028,
        # CJK). The secret only keys the signature (any text, percent-encoded first), but `loopauth token` prints
        # both for other tools: no terminal escape in either.
        raise RefusedTokens(
            f"{step} failed: provider answered {status} with a token that is not printable ASCII "
            "or a secret with control characters",
            status=status,
            fields=fields,
        )
    if require_callback_confirmed and fields.get("oauth_callback_confirmed", "").lower() != "true":
        # RFC 5849 §2.1: MUST be present and "true". Without it the provider speaks OAuth 1.0,
        # whose callbacks are open to session fixation; refuse rather than downgrade.
        raise ProviderError(
            f"{step} failed: the provider did not confirm the callback (oauth_callback_confirmed is "
            f"{fields.get('oauth_callback_confirmed', 'missing')!r}); refusing an OAuth 1.0 downgrade",
            status=status,
            body=text,
        )
    return fields


def twitter_error_codes(text: str) -> set[int]:
    """The numeric codes of a Twitter-shaped JSON error body."""
    try:
        data: Any = parse_json(text)
    except ValueError:
        return set()
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return set()
    return {e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), int)}


def hint_for(error: ProviderError, *, callback: str | None) -> str:
    """A next step for a provider error, or ``""``: which callback to register, clock skew..."""
    codes = twitter_error_codes(error.body)
    if 415 in codes or "callback url not approved" in error.body.lower():
        return f"register this exact callback URL in the app's settings: {callback}" if callback else ""
    if 135 in codes:
        return "this machine's clock is off; sync it (timestamp out of bounds)"
    if error.status == 401 or 32 in codes:
        return "check the consumer key and secret, and that this machine's clock is right"
    return ""


def match_callback(params: Mapping[str, str], request_token: str) -> Outcome:
    """Decide what a callback's query means for the login waiting on ``request_token``.

    Only our own token counts (compared in constant time, RFC 5849 §2.2 and OAuth Security
    Advisory 2009.1); anything else is :class:`Rejected`.
    """
    denied = params.get("denied")
    if denied is not None:
        if _same(denied, request_token):
            return Denied()
        return Rejected("this denial is for another login")
    token = params.get("oauth_token")
    if token is None:
        problem = params.get("oauth_problem") or params.get("error") or ""
        if "refuse" in problem or "denied" in problem:
            # Some providers report a refusal with oauth_problem=user_refused and no token.
            return Rejected("the provider reported a refusal without naming the request token")
        return Rejected("no oauth_token in the callback")
    if not _same(token, request_token):
        return Rejected("this callback is for another login (oauth_token does not match)")
    verifier = params.get("oauth_verifier")
    if not verifier:
        return Rejected("the callback has no oauth_verifier")
    return Approved(verifier)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def user_id_from_token(access_token: str) -> str | None:
    """Twitter's user id is the part of the access token before the first ``-``."""
    head, sep, _ = access_token.partition("-")
    return head if sep and head.isdigit() else None
