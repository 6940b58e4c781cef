"""The OAuth 1.0a dance (RFC 5849 §2): request token, authorize page, verifier, access token.

:class:`OAuth1Dance` is the :class:`loopauth.loopback.dance.Dance` the loopback login drives, and the
engine of the manual :class:`loopauth.oauth1.flow.Flow`. Its calls block; the login runs them in a
worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from ..errors import ProviderError, UsageError
from ..http import Client
from ..loopback import wording
from ..loopback.dance import Approved, Outcome, Rejected, parse_pasted
from ..models import AnyCredentials, AnyProvider, Credentials, Provider, RequestToken
from ..text import clean
from ..urls import with_query
from .access import OAuth1Access
from .consumer import Consumer, consumer_for
from .messages import (
    RefusedTokens,
    authorize_url,
    hint_for,
    match_callback,
    parse_token_response,
    user_id_from_token,
)
from .signing import sign


class OAuth1Dance:
    """One OAuth 1.0a authorization for one consumer at one provider."""

    def __init__(
        self,
        provider: Provider,
        consumer: Consumer,
        *,
        authorize_params: Mapping[str, str] | None = None,
        request_token_params: Mapping[str, str] | None = None,
    ) -> None:
        # The profile signs later requests the way this login did: its endpoints carry the consumer's method.
        if provider.signature_method != consumer.signature_method:
            provider = provider.replace(signature_method=consumer.signature_method)
        self.provider = provider
        self.consumer = consumer
        self.authorize_params = dict(authorize_params or {})
        self.request_token_params = dict(request_token_params or {})
        self.request_token: RequestToken | None = None
        """The pending request token, from :meth:`begin` until a successful :meth:`finish`."""

    @classmethod
    def create(
        cls,
        provider: AnyProvider,
        *,
        consumer_key: str | None,
        consumer_secret: str | None,
        signature_method: str | None = None,
        rsa_key_file: str | None = None,
        authorize_params: Mapping[str, str] | None = None,
        request_token_params: Mapping[str, str] | None = None,
    ) -> OAuth1Dance:
        """Check the consumer's part of a login (UsageError for the first problem) and build the dance."""
        if not isinstance(provider, Provider):
            raise UsageError(f"{provider.name} is an OAuth 2.0 provider: log in with a client id, not a consumer key")
        if rsa_key_file and signature_method is None:
            signature_method = "RSA-SHA1"
        consumer = consumer_for(
            consumer_key,
            consumer_secret,
            signature_method=signature_method or provider.signature_method,
            rsa_key_file=rsa_key_file,
        )
        return cls(provider, consumer, authorize_params=authorize_params, request_token_params=request_token_params)

    @property
    def provider_name(self) -> str:
        return self.provider.name

    def begin(self, client: Client, callback: str, *, timeout: float) -> str:
        """RFC 5849 §2.1: temporary credentials for ``callback``, confirmed; returns the authorize URL.

        ``request_token_params`` (Twitter's ``x_auth_access_type``) go in the URL's query, where
        Twitter reads them, and so are covered by the signature (§3.4.1.3.1).
        """
        url = with_query(self.provider.request_token_url, self.request_token_params)
        response = client.send(sign("POST", url, self.consumer, callback=callback), timeout=timeout)
        try:
            fields = parse_token_response(
                response.status,
                response.content_type,
                response.text(),
                step="request token",
                require_callback_confirmed=True,
                sent=response.request,
            )
        except ProviderError as exc:
            raise _with_hint(exc, callback) from None
        self.request_token = RequestToken(fields["oauth_token"], fields["oauth_token_secret"])
        return authorize_url(self.provider, self.request_token.oauth_token, self.authorize_params)

    def match(self, params: Mapping[str, str]) -> Outcome:
        if self.request_token is None:
            return Rejected("this login has not started yet")
        return match_callback(params, self.request_token.oauth_token)

    def match_pasted(self, text: str, *, bare: bool) -> Outcome:
        pasted = parse_pasted(text)
        if pasted is None:
            return Rejected("that is neither the address the browser landed on nor a verifier or PIN")
        if isinstance(pasted, str):
            if not bare:
                return Rejected("a verifier alone is not enough while the callback is served; paste the whole address")
            if self.request_token is None:
                return Rejected("this login has not started yet")
            # A bare verifier names no token; the provider still checks it against ours at the exchange.
            return Approved(pasted, typed=True)
        outcome = self.match(pasted)
        return Approved(outcome.verifier, typed=True) if isinstance(outcome, Approved) else outcome

    def finish(self, client: Client, approved: Approved, *, profile: str, timeout: float) -> Credentials:
        """RFC 5849 §2.3: signed with the request token *and its secret*, plus the verifier."""
        token = self.request_token
        if token is None:
            raise ProviderError("there is no request token to exchange: the authorization was not started")
        request = sign(
            "POST",
            self.provider.access_token_url,
            self.consumer,
            token=token.oauth_token,
            token_secret=token.oauth_token_secret,
            verifier=approved.verifier,
        )
        response = client.send(request, timeout=timeout)
        try:
            fields = parse_token_response(
                response.status, response.content_type, response.text(), step="access token", sent=response.request
            )
        except RefusedTokens as exc:
            # Issued, but not stored: revoke it, as a login whose save failed does.
            issued = self.credentials(exc.fields, profile=profile)
            note = wording.discarded if self.discard(client, issued, timeout=timeout) else wording.not_discarded
            raise ProviderError(f"{exc.message}; {note(self.provider.name)}", status=exc.status) from None
        except ProviderError as exc:
            raise _with_hint(exc, None) from None
        self.request_token = None  # a request token is good for one exchange
        return self.credentials(fields, profile=profile)

    def discard(self, client: Client, creds: AnyCredentials, *, timeout: float) -> bool:
        """Revoke the new access token at the provider's ``revoke_url`` (Twitter's invalidate_token), if it has one."""
        return isinstance(creds, Credentials) and OAuth1Access(creds).discard(client, timeout=timeout)

    def typo(self, error: ProviderError) -> bool:
        # The access-token call refused (401, or Twitter's 400/403 for a bad verifier): with a typed
        # verifier, that is most likely a typo, and the request token is still good for another try.
        return error.status in (400, 401, 403)

    def credentials(self, fields: Mapping[str, str], *, profile: str) -> Credentials:
        """The profile for an access-token answer: this consumer, its signature method and key file."""
        token = fields["oauth_token"]
        return Credentials(
            profile=profile,
            provider=self.provider.name,
            consumer_key=self.consumer.key,
            consumer_secret=self.consumer.secret,
            oauth_token=token,
            oauth_token_secret=fields["oauth_token_secret"],
            # Only shown, never signed with: stored without control characters, so no later output can carry
            # a provider's terminal escapes (OSC 52 clipboard writes, screen clears) even where it prints raw.
            user_id=_clean_or_none(fields.get("user_id") or user_id_from_token(token)),
            screen_name=_clean_or_none(fields.get("screen_name") or fields.get("username")),
            created_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
            endpoints=self.provider,
            rsa_key_file=self.consumer.rsa_key_file,
        )


def _clean_or_none(value: str | None) -> str | None:
    return (clean(value).strip() or None) if value else None


def _with_hint(error: ProviderError, callback: str | None) -> ProviderError:
    hint = hint_for(error, callback=callback)
    if not hint:
        return error
    return ProviderError(f"{error.message}; {hint}", status=error.status, body=error.body)
