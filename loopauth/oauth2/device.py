"""The device authorization grant (RFC 8628): a login for a machine whose browser is elsewhere, or absent.

loopauth asks the provider for a device code and a user code, shows the user code and the page to enter it on
(and opens that page when a browser can be opened here), then polls the token endpoint at the interval the
provider asked for, 5 s more after each ``slow_down``, until the user approves or refuses or the code expires.
No callback server, no PKCE: the device code itself is the secret, and it never leaves this process. It uses
the same :class:`~loopauth.oauth2.dance.OAuth2Dance` for discovery, the token answer, the ID token and the
account, so a device login stores the same profile a browser login would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import AuthorizationDenied, LoginTimeout, ProviderError, StoreError, UsageError
from ..http import REQUEST_TIMEOUT, Client, Response
from ..loopback.options import Prepared, Say
from ..models import OAuth2Credentials
from ..text import has_control, one_line, provider_message
from ..urls import check_endpoint
from .dance import OAuth2Dance
from .messages import form_request, parse_token_response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
DEFAULT_INTERVAL = 5
"""Seconds between polls when the provider names none (RFC 8628 §3.2)."""
SLOW_DOWN = 5
"""Seconds added to the interval, for good, at each ``slow_down`` (§3.5)."""
DISCARD_TIMEOUT = 10.0


@dataclass(frozen=True)
class DeviceCode:
    """The device authorization response (RFC 8628 §3.2), checked."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float

    def __repr__(self) -> str:  # the device code is the grant's secret until it is exchanged
        return f"DeviceCode(user_code={self.user_code!r}, verification_uri={self.verification_uri!r})"


def _json_object(response: Response) -> dict[str, Any] | None:
    try:
        data: Any = json.loads(response.text())
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def error_of(response: Response) -> str | None:
    """The RFC 6749 §5.2 ``error`` of an answer, whatever its status: GitHub answers errors with 200."""
    data = _json_object(response)
    error = data.get("error") if data is not None else None
    return error if isinstance(error, str) else None


def request_code(client: Client, dance: OAuth2Dance, *, timeout: float) -> DeviceCode:
    """Ask the device authorization endpoint for a code (§3.1); ProviderError naming what was wrong."""
    provider = dance.provider
    assert provider.device_authorization_url
    fields = [("scope", " ".join(dance.scopes))] if dance.scopes else []
    request = form_request(
        provider.device_authorization_url,
        fields,
        client_id=dance.client_id,
        client_secret=dance.client_secret,
        client_auth=provider.client_auth,
    )
    response = client.send(request, timeout=timeout)
    data = _json_object(response)
    if not response.ok or data is None or error_of(response) is not None:
        detail = provider_message(response.content_type, response.text())
        raise ProviderError(
            f"device authorization failed: provider answered {response.status}: {detail}",
            status=response.status,
            body=response.text(),
        )
    # Google says verification_url, as RFC 8628's drafts did.
    uri = data.get("verification_uri", data.get("verification_url"))
    complete = data.get("verification_uri_complete")
    for name, value in (("device_code", data.get("device_code")), ("user_code", data.get("user_code"))):
        if not isinstance(value, str) or not value or has_control(value):
            raise ProviderError(f"device authorization failed: the provider's answer has no usable {name}")
    if not isinstance(uri, str):
        raise ProviderError("device authorization failed: the provider's answer has no verification_uri")
    if complete is not None and not isinstance(complete, str):
        raise ProviderError("device authorization failed: verification_uri_complete is not a string")
    for value in (uri, complete):
        if value is None:
            continue
        try:
            # Shown to the user and opened in a browser: an http(s) page, https off this machine.
            check_endpoint(value, "verification_uri")
        except UsageError as exc:
            raise ProviderError(f"device authorization failed: {exc.message}") from None
    expires_in = _seconds(data.get("expires_in"), "expires_in", default=None)
    interval = _seconds(data.get("interval"), "interval", default=DEFAULT_INTERVAL)
    return DeviceCode(data["device_code"], data["user_code"], uri, complete, expires_in, max(interval, 1))


def _seconds(value: object, name: str, *, default: float | None) -> float:
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ProviderError(f"device authorization failed: {name} in the provider's answer is not a number of seconds")
    return float(value)


def poll(
    client: Client,
    dance: OAuth2Dance,
    code: DeviceCode,
    *,
    deadline: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll the token endpoint (§3.4) until the user has approved: the token answer, checked.

    AuthorizationDenied (exit 3) on ``access_denied``; LoginTimeout (exit 4) on ``expired_token`` or at
    ``deadline`` (a ``clock`` time); ProviderError (exit 5) for any other error.
    """
    interval = code.interval
    fields = [("grant_type", GRANT_TYPE), ("device_code", code.device_code)]
    while True:
        if clock() + interval > deadline:
            raise LoginTimeout("the device login timed out: nobody entered the code in time")
        sleep(interval)
        request = form_request(
            dance.provider.token_url,
            fields,
            client_id=dance.client_id,
            client_secret=dance.client_secret,
            client_auth=dance.provider.client_auth,
        )
        response = client.send(request, timeout=min(REQUEST_TIMEOUT, max(deadline - clock(), 1.0)))
        error = error_of(response)
        if error is None:
            return parse_token_response(response, step="device login")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += SLOW_DOWN
            continue
        if error == "access_denied":
            raise AuthorizationDenied(f"login denied: access was refused on {dance.provider_name}'s page")
        if error == "expired_token":
            raise LoginTimeout("the device login timed out: the code expired before anyone entered it")
        raise ProviderError(
            f"device login failed: provider answered {response.status}: "
            f"{one_line(provider_message(response.content_type, response.text()))}",
            status=response.status,
            body=response.text(),
        )


def login(
    prepared: Prepared,
    *,
    client: Client | None = None,
    open_url: Callable[[str], object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OAuth2Credentials:
    """A device login for ``prepared`` (its dance an OAuth 2.0 one), saved as its profile.

    ``open_url`` is given the page to open (``verification_uri_complete`` when there is one); None opens
    nothing. The user code and the page always go to the options' ``say`` (stderr).
    """
    dance = prepared.dance
    if not isinstance(dance, OAuth2Dance):
        raise UsageError(f"the device login is OAuth 2.0, and {dance.provider_name} is an OAuth 1.0a provider")
    say: Say = prepared.options.say
    started = time.monotonic()
    own = client is None
    client = client or Client()
    try:
        dance.discover(client, timeout=REQUEST_TIMEOUT)
        if not dance.provider.device_authorization_url:
            raise UsageError(
                f"{dance.provider_name} has no device authorization endpoint: give {{arg}} (or log in through "
                "the browser, without the device login)",
                argument="device_authorization_url",
            )
        code = request_code(client, dance, timeout=REQUEST_TIMEOUT)
        say(f"To log in to {dance.provider_name}, open {code.verification_uri} and enter the code: {code.user_code}")
        if open_url is not None:
            open_url(code.verification_uri_complete or code.verification_uri)
        say("Waiting for the code to be entered (Ctrl-C to give up)...")
        deadline = started + min(prepared.options.timeout, code.expires_in)
        issued_at = int(time.time())
        data = poll(client, dance, code, deadline=deadline, sleep=sleep)
        creds = dance.credentials(data, profile=prepared.profile, issued_at=issued_at)
        if dance.wants_id_token():
            creds = dance.with_id_token(client, creds, data.get("id_token"), timeout=REQUEST_TIMEOUT)
        creds = dance.identify(client, creds, timeout=REQUEST_TIMEOUT)
        try:
            prepared.store.save(creds, kind=prepared.storage)
        except StoreError as exc:
            revoked = dance.discard(client, creds, timeout=DISCARD_TIMEOUT)
            note = "the provider revoked the tokens" if revoked else "revoke the tokens in the provider's settings"
            raise StoreError(f"{exc.message}; {note}", path=exc.path) from exc
        return creds
    finally:
        if own:
            client.close()
