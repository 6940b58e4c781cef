"""The OAuth 2.0 dance (RFC 6749 §4.1 with RFC 7636 PKCE): authorize page, code, token exchange, account.

:class:`OAuth2Dance` is the :class:`loopauth.loopback.dance.Dance` the loopback login drives, and
the engine of the manual :class:`loopauth.oauth2.flow.Flow2`. Its calls block; the login runs them in
a worker thread. Nothing here ever puts the code, the verifier or a token in a message.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .. import oidc
from ..errors import ProviderError, UsageError
from ..http import Client, Request
from ..identity import account_of
from ..loopback import wording
from ..loopback.dance import Approved, Outcome, Rejected, parse_pasted
from ..models import AnyCredentials, OAuth2Credentials, OAuth2Provider, split_scope
from ..oidc import claims as oidc_claims
from ..oidc import discovery
from ..text import has_control, parse_json
from . import messages
from .access import OAuth2Access, bearer_request


class OAuth2Dance:
    """One authorization for one client at one provider; a fresh PKCE verifier and state per :meth:`begin`."""

    def __init__(
        self,
        provider: OAuth2Provider,
        *,
        client_id: str,
        client_secret: str | None = None,
        scopes: Sequence[str] | None = None,
        authorize_params: Mapping[str, str] | None = None,
    ) -> None:
        self.provider = provider
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = tuple(provider.scopes if scopes is None else scopes)
        self.authorize_params = dict(authorize_params or {})
        self.verifier: str | None = None
        self.state: str | None = None
        self.redirect_uri: str | None = None
        self.nonce: str | None = None
        """The OpenID Connect nonce of this authorization, when it asks for an ID token (Core §3.1.2.1)."""

    @classmethod
    def create(
        cls,
        provider: OAuth2Provider,
        *,
        client_id: str | None,
        client_secret: str | None = None,
        scopes: Sequence[str] | str | None = None,
        client_auth: str | None = None,
        authorize_params: Mapping[str, str] | None = None,
    ) -> OAuth2Dance:
        """Check the client's part of a login (UsageError for the first problem) and build the dance."""
        if not client_id:
            raise UsageError("no client id: give {arg}", argument="client_id")
        if client_auth is not None:
            if client_auth not in messages.CLIENT_AUTH:
                raise UsageError(
                    "{arg} must be one of " + ", ".join(messages.CLIENT_AUTH) + f", got {client_auth!r}",
                    argument="client_auth",
                )
            provider = provider.replace(client_auth=client_auth)
        if scopes is not None:
            scopes = split_scope(scopes)
        dance = cls(
            provider,
            client_id=client_id,
            client_secret=client_secret or None,
            scopes=scopes,
            authorize_params=authorize_params,
        )
        if oidc.wants_id_token(dance.provider, dance.scopes):
            oidc.require_extra()  # before anything is bound or opened: the ID token could not be checked
        return dance

    @property
    def provider_name(self) -> str:
        return self.provider.name

    def begin(self, client: Client, callback: str, *, timeout: float) -> str:
        """A new verifier and state for ``callback``; the authorize URL. No network (PKCE needs none), unless the
        provider is known by its issuer alone: then its metadata, once."""
        self.discover(client, timeout=timeout)
        if not self.provider.authorize_url:
            raise UsageError(f"{self.provider.name} has no authorize page: log in with the device grant instead")
        extra = dict(self.authorize_params)
        self.nonce = None
        if self.wants_id_token():
            self.nonce = extra["nonce"] = messages.new_state()
        self.verifier = messages.new_verifier()
        self.state = messages.new_state()
        self.redirect_uri = callback
        return messages.authorize_url(
            self.provider,
            client_id=self.client_id,
            redirect_uri=callback,
            scopes=self.scopes,
            state=self.state,
            code_challenge=messages.challenge(self.verifier),
            extra=extra,
        )

    def discover(self, client: Client, *, timeout: float) -> None:
        """Complete the provider from its issuer's metadata, when it is known by its issuer and lacks endpoints."""
        if discovery.needs_discovery(self.provider):
            self.provider = discovery.discover(self.provider, client, timeout=timeout)
        if self.wants_id_token() and not self.provider.jwks_url:
            raise ProviderError(
                f"{self.provider.issuer} publishes no jwks_uri, so its ID tokens cannot be checked; "
                "give the provider's jwks_url, or leave openid out of the scopes"
            )

    def wants_id_token(self) -> bool:
        """Whether this login asks for an ID token it must verify (``openid``, at a provider with an issuer)."""
        return oidc.wants_id_token(self.provider, self.scopes)

    def match(self, params: Mapping[str, str]) -> Outcome:
        if self.state is None:
            return Rejected("this login has not started yet")
        return messages.match_callback(
            params, self.state, issuer=self.provider.issuer, requires_iss=self.provider.requires_iss
        )

    def match_pasted(self, text: str, *, bare: bool) -> Outcome:
        pasted = parse_pasted(text)
        if not isinstance(pasted, dict):
            # A bare code cannot be checked against our state: only the whole address can.
            return Rejected("that is not the address the browser landed on; paste the whole address")
        outcome = self.match(pasted)
        return Approved(outcome.verifier, typed=True) if isinstance(outcome, Approved) else outcome

    def finish(self, client: Client, approved: Approved, *, profile: str, timeout: float) -> OAuth2Credentials:
        """Exchange the code (once), then ask the verify endpoint whose account it is."""
        if self.verifier is None or self.redirect_uri is None:
            raise ProviderError("there is no authorization to finish: it was not started")
        fields = [
            ("grant_type", "authorization_code"),
            ("code", approved.verifier),
            # Byte for byte the redirect_uri of the authorize request (RFC 6749 §4.1.3).
            ("redirect_uri", self.redirect_uri),
            ("code_verifier", self.verifier),
        ]
        started = int(time.time())
        response = client.send(self._token_request(fields), timeout=timeout)
        self.verifier = None  # a code is exchanged once; so is its verifier
        try:
            data = messages.parse_token_response(response, step="token request")
        except messages.RefusedAnswer as exc:
            raise self._discard_refused(client, exc, profile=profile, timeout=timeout) from None
        creds = self.credentials(data, profile=profile, issued_at=started)
        if self.wants_id_token():
            try:
                creds = self.with_id_token(client, creds, data.get("id_token"), timeout=timeout)
            except ProviderError as exc:
                # Tokens were issued, and nobody will hold them: revoke them where the provider allows.
                note = wording.discarded if self.discard(client, creds, timeout=timeout) else wording.not_discarded
                raise ProviderError(f"{exc.message}; {note(self.provider.name)}", status=exc.status) from None
        return self.identify(client, creds, timeout=timeout)

    def _discard_refused(
        self, client: Client, exc: messages.RefusedAnswer, *, profile: str, timeout: float
    ) -> ProviderError:
        """The error for a 200 answer loopauth refuses, once the tokens in it are revoked where the provider allows
        (as for a login whose save failed): nothing valid is left behind that nobody holds."""
        if exc.access_token is None and exc.refresh_token is None:
            return exc
        issued = OAuth2Credentials(
            profile=profile,
            provider=self.provider.name,
            client_id=self.client_id,
            access_token=exc.access_token or "",
            refresh_token=exc.refresh_token,
            endpoints=self.provider,
        )
        note = wording.discarded if self.discard(client, issued, timeout=timeout) else wording.not_discarded
        return ProviderError(f"{exc.message}; {note(self.provider.name)}", status=exc.status)

    def with_id_token(
        self, client: Client, creds: OAuth2Credentials, id_token: object, *, timeout: float
    ) -> OAuth2Credentials:
        """``creds`` with the token answer's ID token, verified, and the account its claims name (the verify
        endpoint, when there is one, names it afterwards). ProviderError when it is missing or fails a check."""
        from ..oidc import idtoken

        if not isinstance(id_token, str) or not id_token:
            raise ProviderError("token request failed: the provider's answer has no id_token, though openid was asked")
        if has_control(id_token):
            raise ProviderError("token request failed: the provider's ID token has control characters in it")
        assert self.provider.issuer  # begin() saw to it, and to the key set
        assert self.provider.jwks_url
        claims = idtoken.verify(
            id_token,
            keys=idtoken.KeySet(self.provider.jwks_url, client, timeout=timeout),
            issuer=self.provider.issuer,
            client_id=self.client_id,
            nonce=self.nonce,
        )
        name, user_id = oidc_claims.account(claims)
        return creds.replace(id_token=id_token, screen_name=name, user_id=user_id)

    def discard(self, client: Client, creds: AnyCredentials, *, timeout: float) -> bool:
        """Revoke tokens that could not be stored (RFC 7009: the refresh token, then the access token)."""
        return isinstance(creds, OAuth2Credentials) and OAuth2Access(creds).discard(client, timeout=timeout)

    def typo(self, error: ProviderError) -> bool:
        return False  # codes are never typed: only whole addresses, checked against the state

    def credentials(self, data: Mapping[str, Any], *, profile: str, issued_at: int) -> OAuth2Credentials:
        """The profile for a token endpoint's answer (already checked by ``messages.parse_token_response``)."""
        expires_in = data.get("expires_in")
        return OAuth2Credentials(
            profile=profile,
            provider=self.provider.name,
            client_id=self.client_id,
            client_secret=self.client_secret,
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            token_type="bearer",
            expires_at=issued_at + int(expires_in) if expires_in is not None else None,
            issued_at=issued_at,
            scope=data.get("scope") or " ".join(self.scopes) or None,
            created_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            # What was asked, not only what was granted: logging in again asks for the same (a provider that
            # grants offline_access only with prompt=consent would otherwise drop the refresh token).
            endpoints=self.provider.replace(
                scopes=self.scopes, authorize_params={**self.provider.authorize_params, **self.authorize_params}
            ),
        )

    def identify(self, client: Client, creds: OAuth2Credentials, *, timeout: float) -> OAuth2Credentials:
        """``creds`` with the account the verify endpoint names; unchanged when there is none or it refuses
        (the login itself succeeded; ``loopauth verify`` reports such a refusal)."""
        if not self.provider.verify_url:
            return creds
        try:
            response = client.send(bearer_request(creds, "GET", self.provider.verify_url), timeout=timeout)
        except ProviderError:
            return creds
        if not response.ok:
            return creds
        try:
            name, user_id = account_of(parse_json(response.text()))
        except ValueError:
            return creds
        return creds.replace(screen_name=name, user_id=user_id)

    def _token_request(self, fields: Sequence[tuple[str, str]]) -> Request:
        return messages.form_request(
            self.provider.token_url,
            fields,
            client_id=self.client_id,
            client_secret=self.client_secret,
            client_auth=self.provider.client_auth,
        )
