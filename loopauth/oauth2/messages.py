"""OAuth 2.0 authorization code with PKCE, as pure functions: what to send, and what the provider's answers mean.

RFC 6749 (the code grant, client authentication, errors), RFC 7636 (PKCE, S256 only), RFC 8252
(native apps: loopback redirect, state) and RFC 7009 (revocation). No I/O: the dance and the
refresh send what these build over ``loopauth.http``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..errors import ProviderError
from ..http import Request, Response
from ..models import OAuth2Provider
from ..text import clean_words, is_b64token, is_printable_token, one_line, parse_json, provider_message

if TYPE_CHECKING:
    # match_callback imports the login's outcomes itself: they are dataclasses, and a due refresh loads this
    # module inside `loopauth token`, where dataclasses is not worth its import (see loopauth/http.py).
    from ..loopback.dance import Outcome

FORM = "application/x-www-form-urlencoded"
CLIENT_AUTH = ("basic", "post")


def new_verifier() -> str:
    """A PKCE code verifier: 64 random bytes, base64url, 86 characters of [A-Za-z0-9-_] (RFC 7636 §4.1)."""
    return secrets.token_urlsafe(64)


def challenge(verifier: str) -> str:
    """The S256 code challenge: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """The state that ties a callback to this login: 256 random bits (RFC 6749 §10.12, RFC 8252 §8.9)."""
    return secrets.token_urlsafe(32)


def authorize_url(
    provider: OAuth2Provider,
    *,
    client_id: str,
    redirect_uri: str,
    scopes: Sequence[str],
    state: str,
    code_challenge: str,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The provider's page the user must visit (RFC 6749 §4.1.1), with PKCE and any extra parameters."""
    parts = urlsplit(provider.authorize_url)
    ours = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if not scopes:
        del ours["scope"]
    query = [*parse_qsl(parts.query, keep_blank_values=True)]
    query += [(k, v) for k, v in {**provider.authorize_params, **(extra or {})}.items() if k not in ours]
    query += list(ours.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote), ""))


def match_callback(
    params: Mapping[str, str], state: str, *, issuer: str | None = None, requires_iss: bool = False
) -> Outcome:
    """What a callback's query means for the login waiting with ``state`` (compared in constant time).

    A missing or wrong state, an ``error`` included, is someone else's: the wait goes on (RFC 6749
    §10.12). With our state, ``access_denied`` is the user's refusal and any other error the provider's.
    So is a response whose ``iss`` is not ``issuer``, or lacks one when ``requires_iss`` (RFC 9207: a mix-up
    attack sends another provider's answer to the login that waits for this one's).
    """
    from ..loopback.dance import Approved, Denied, Failed, Rejected

    given = params.get("state")
    if given is None:
        return Rejected("the callback has no state")
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), state.encode("utf-8", "surrogatepass")):
        return Rejected("this callback is for another login (state does not match)")
    iss = params.get("iss")
    # An issuer template (Entra ID's {tenantid}) names no one issuer to compare with.
    if issuer is not None and "{" not in issuer:
        if iss is None and requires_iss:
            return Rejected(f"the callback has no iss, and {issuer} always sends one (RFC 9207)")
        if iss is not None and iss != issuer:
            return Rejected(f"this callback is from another issuer ({one_line(iss, 120)}), not {issuer} (RFC 9207)")
    error = params.get("error")
    if error is not None:
        if error == "access_denied":
            return Denied()
        description = params.get("error_description")
        return Failed(one_line(f"{error}: {description}" if description else error))
    code = params.get("code")
    if not code:
        return Rejected("the callback has no code")
    return Approved(code)


def client_authentication(
    client_id: str, client_secret: str | None, method: str
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The headers and form fields that authenticate the client at the token and revoke endpoints.

    A public client (no secret) sends ``client_id`` in the body. A confidential one uses HTTP Basic
    with the id and secret form-urlencoded *before* base64 (RFC 6749 §2.3.1: ``+ / & =`` in a secret
    break clients that skip this), or both in the body for ``post`` (``client_secret_post``).
    """
    if client_secret is None:
        return {}, [("client_id", client_id)]
    if method == "post":
        return {}, [("client_id", client_id), ("client_secret", client_secret)]
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}, []


def form_request(
    url: str,
    fields: Sequence[tuple[str, str]],
    *,
    client_id: str,
    client_secret: str | None,
    client_auth: str,
) -> Request:
    """A POST of ``fields`` to a token or revoke endpoint, with the client's authentication."""
    headers, extra = client_authentication(client_id, client_secret, client_auth)
    body = urlencode([*fields, *extra], quote_via=quote).encode("ascii")
    return Request(
        "POST",
        url,
        {**headers, "Content-Type": FORM, "Accept": "application/json"},
        body,
    )


def revoke_requests(
    provider: OAuth2Provider, *, client_id: str, client_secret: str | None, access_token: str, refresh_token: str | None
) -> list[Request]:
    """RFC 7009 revocations for a login's tokens: the refresh token first (at most providers that ends its
    access tokens too), then the access token."""
    assert provider.revoke_url is not None
    tokens = [("refresh_token", refresh_token), ("access_token", access_token)]
    return [
        form_request(
            provider.revoke_url,
            [("token", token), ("token_type_hint", hint)],
            client_id=client_id,
            client_secret=client_secret,
            client_auth=provider.client_auth,
        )
        for hint, token in tokens
        if token
    ]


MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
"""The longest token lifetime believed (ten years): a larger ``expires_in`` is an answer gone wrong."""


class RefusedAnswer(ProviderError):
    """A 2xx token answer that loopauth refuses, though the provider may have issued the tokens in it.

    ``access_token`` and ``refresh_token`` are the strings the answer held under those names (None otherwise):
    at a login they are revoked; at a refresh, :attr:`kept_refresh_token` is saved.
    """

    def __init__(
        self, message: str, *, status: int, access_token: object, refresh_token: object, unread: bool = False
    ) -> None:
        super().__init__(message, status=status)
        self.access_token = access_token if isinstance(access_token, str) and access_token else None
        self.refresh_token = refresh_token if isinstance(refresh_token, str) and refresh_token else None
        self.kept_refresh_token = self.refresh_token if is_printable_token(self.refresh_token or "") else None
        """The answer's refresh token, if it is one loopauth can store and send: a rotated token to keep."""
        self.lost_refresh_token = unread or (refresh_token is not None and self.kept_refresh_token is None)
        """Whether the answer held, or may have held (``unread``: not a JSON object), a refresh token loopauth
        cannot keep. Otherwise it had none, and the old one stays good (RFC 6749 §6)."""


def parse_token_response(response: Response, *, step: str) -> dict[str, Any]:
    """A token endpoint's answer (RFC 6749 §5.1): JSON with ``access_token`` and ``token_type`` bearer.

    Raises ProviderError naming what was wrong, never quoting a token: the provider's error
    (§5.2 ``error``/``error_description``, without the values loopauth sent) for a non-2xx answer, or
    :class:`RefusedAnswer` for a 2xx one it cannot use. What it returns is checked: the access token is an
    RFC 6750 ``b64token``, the refresh token printable ASCII, ``expires_in`` a whole number of seconds from 0
    to ten years, and ``scope`` has no control characters.
    """
    if not response.ok:
        from ..trace import echo_free  # only on the error path: a due refresh in `loopauth token` skips it

        text = echo_free(response)
        raise ProviderError(
            f"{step} failed: provider answered {response.status}: {provider_message(response.content_type, text)}",
            status=response.status,
            body=text,
        )
    try:
        data: Any = parse_json(response.text())
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # Not JSON: say so, but do not quote it (a provider may send tokens form-encoded).
        raise RefusedAnswer(
            f"{step} failed: the provider answered {response.status} with "
            f"{response.content_type or 'no content type'}, not a JSON object",
            status=response.status,
            access_token=None,
            refresh_token=None,
            unread=True,
        )
    if isinstance(data.get("error"), str) and "access_token" not in data:
        # An error with a 2xx status (GitHub's habit): the error is what it means, whatever the status says.
        from ..trace import echo_free

        text = echo_free(response)
        raise ProviderError(
            f"{step} failed: provider answered {response.status}: {provider_message(response.content_type, text)}",
            status=response.status,
            body=text,
        )
    access_token, refresh_token = data.get("access_token"), data.get("refresh_token")

    def refused(what: str) -> RefusedAnswer:
        return RefusedAnswer(
            f"{step} failed: {what}", status=response.status, access_token=access_token, refresh_token=refresh_token
        )

    if refresh_token is not None and not (isinstance(refresh_token, str) and is_printable_token(refresh_token)):
        raise refused("the provider's refresh_token is not printable ASCII")
    if not isinstance(access_token, str) or not access_token:
        raise refused("the provider's answer has no access_token")
    if not is_b64token(access_token):
        # The Authorization header carries it as an RFC 6750 b64token; `token` prints it for other tools.
        raise refused("the provider's access_token has characters a bearer token cannot carry")
    token_type = data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        shown = one_line(token_type, 40) if isinstance(token_type, str) else "missing"
        raise refused(f"the token type is {shown!r}, and loopauth only uses bearer tokens")
    scope = data.get("scope")
    if scope is not None:
        if not isinstance(scope, str):
            raise refused("scope in the provider's answer is not a string")
        data["scope"] = clean_words(scope) or None  # shown by `status` and `token`: no terminal escapes
    if data.get("expires_in") is not None:
        expires_in = _seconds(data["expires_in"])
        if expires_in is None:
            raise refused("expires_in in the provider's answer is not a number of seconds from 0 to ten years")
        data["expires_in"] = expires_in
    return data


def _seconds(value: object) -> int | None:
    """``expires_in`` as whole seconds: a finite number from 0 to MAX_EXPIRES_IN, or a string of ASCII digits
    (some providers quote it); None for anything else (NaN, ``"²"``, ``1e308``, a 5,000-digit string)."""
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > len(str(MAX_EXPIRES_IN)):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not 0 <= value <= MAX_EXPIRES_IN:  # False for NaN; JSON has no Infinity (parse_json refuses it)
        return None
    return int(value)


def error_code(error: ProviderError) -> str | None:
    """The RFC 6749 §5.2 ``error`` of a token endpoint's refusal, if its body has one."""
    try:
        data: Any = parse_json(error.body)
    except ValueError:
        return None
    code = data.get("error") if isinstance(data, dict) else None
    return code if isinstance(code, str) else None
