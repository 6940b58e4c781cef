"""A scripted person in the browser: opens a login's start URL, submits the provider's form, follows the redirect.

``loopauth demo`` uses it where there is no browser or no terminal, and the tests use it as the user.
It understands any authorize page with a POST form whose buttons carry ``approve`` / ``deny`` values.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import aiohttp
from yarl import URL


class PlayUserError(RuntimeError):
    """The scripted browser met something a person would not expect to see."""


# --- a scripted person ------------------------------------------------------------------------------------------


@dataclass
class _Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(action=attributes.get("action", ""), method=attributes.get("method", "get")))
        elif self.forms and tag == "input" and attributes.get("type", "").lower() == "hidden":
            self.forms[-1].fields.append((attributes.get("name", ""), attributes.get("value", "")))
        elif self.forms and tag == "button" and "name" in attributes:
            self.forms[-1].buttons.append((attributes["name"], attributes.get("value", "")))


def _no_query(url: URL) -> str:
    # Error messages may be printed; the query holds the request token and verifier.
    return str(url.with_query(None).with_fragment(None))


async def play_user(start_url: str, *, approve: bool = True, ssl_context: ssl.SSLContext | None = None) -> str:
    """Act as the person in the browser, with aiohttp.ClientSession: GET start_url following redirects (the
    client's own local start page may 302 to the provider's authorize page), find the form on the authorize
    page, submit Authorize or Deny, and follow the provider's redirect to the callback. Return the final
    callback response body text (for an ``oob`` callback: the provider's PIN or denied page). Raise
    PlayUserError if something unexpected happens. ``ssl_context`` is whom https pages must prove themselves to.

    A provider that lets the user through without a page (sign in with Twitter, for an app approved
    before) sends the browser straight back to the callback: that page is returned as it is."""
    choice = "approve" if approve else "deny"
    # A bounded wait, so a test whose server never answers fails instead of hanging;
    # callers wanting a shorter one wrap the call in asyncio.timeout().
    connector = aiohttp.TCPConnector(ssl=ssl_context if ssl_context is not None else True)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), connector=connector) as session:
        async with session.get(start_url) as page:
            text = await page.text()
            page_url = page.url
            if page.status != 200:
                raise PlayUserError(f"the authorize page at {_no_query(page_url)} answered {page.status}: {text[:300]}")
        parser = _FormParser()
        parser.feed(text)
        parser.close()
        chosen = [(form, button) for form in parser.forms for button in form.buttons if button[1] == choice]
        if not chosen and page.history and page_url.origin() == URL(start_url).origin():
            return text  # through the provider and back at the callback: nothing was asked of the user
        if not chosen:
            raise PlayUserError(f"no form with a {choice!r} button on the page at {_no_query(page_url)}")
        form, button = chosen[0]
        if form.method.lower() != "post":
            raise PlayUserError(f"the authorize form uses {form.method!r}, expected post")
        target = urljoin(str(page_url), form.action)
        async with session.post(target, data=[*form.fields, button], allow_redirects=False) as decision:
            text = await decision.text()
            location = decision.headers.get("Location")
            if decision.status == 200:
                return text  # out of band: the provider shows the PIN or the refusal itself
            if decision.status not in (301, 302, 303, 307, 308) or not location:
                raise PlayUserError(f"submitting {choice!r} answered {decision.status}: {text[:300]}")
        # The Location is already encoded; requoting it could change what the callback sees.
        async with session.get(URL(urljoin(target, location), encoded=True)) as callback:
            text = await callback.text()
            if callback.status >= 500:
                raise PlayUserError(
                    f"the callback {_no_query(callback.url)} failed with {callback.status}: {text[:300]}"
                )
            return text
