"""Every sentence the login says: status lines on the terminal and the pages the browser shows.

Kept in one place so that the terminal and the browser tell the same story, and so that a reader
can review the wording without reading the machinery. Nothing here is ever given a secret; values
that came from a provider are cleaned of control characters where they are made (``loopauth.text``).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import pages


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def page(
    status: int, kind: pages.Kind, title: str, message: str, *, detail: str | None = None, next_step: str | None = None
) -> Page:
    return Page(status, pages.render(kind, title, message, detail=detail, next_step=next_step))


CLOSE_TAB = "You can close this tab and return to your terminal."
SEE_TERMINAL = "You can close this tab and return to your terminal, which shows what went wrong."

# -- pages -------------------------------------------------------------------------------------------------------


def success_page(provider: str, account: str) -> Page:
    return page(
        200, "success", "Logged in", f"loopauth is now signed in to {provider} as {account}.", next_step=CLOSE_TAB
    )


def denied_page(message: str) -> Page:
    return page(200, "denied", "Access denied", message, next_step=f"Nothing was saved. {CLOSE_TAB}")


def failed_page(detail: str) -> Page:
    return page(
        502, "error", "Login failed", "The login could not be completed.", detail=detail, next_step=SEE_TERMINAL
    )


def start_failed_page(detail: str) -> Page:
    return page(
        502, "error", "Login failed", "The provider could not start the login.", detail=detail, next_step=SEE_TERMINAL
    )


def not_a_callback_page(reason: str) -> Page:
    return page(
        400,
        "error",
        "Not a valid callback",
        "This request does not complete the login.",
        detail=reason,
        next_step="To log in, use the tab with the provider's page. You can close this one.",
    )


WRONG_HOST = page(421, "error", "Wrong address", "This server only answers requests addressed to itself.")
FROM_ANOTHER_SITE = page(
    403, "error", "Not from another site", "This address answers your browser's own navigation, not other web pages."
)
NOT_FOUND = page(404, "error", "Not found", "There is nothing at this address.")
START_USED = page(
    410,
    "error",
    "This link was already used",
    "Each login's start link opens the provider's page once. If this tab did not get there, something else "
    "opened the link first: cancel the login in your terminal and start it again.",
)
METHOD_NOT_ALLOWED = page(405, "error", "Method not allowed", "Only GET is served here.")
BROKEN = page(500, "error", "Something went wrong", "Return to your terminal.")


def bad_request(status: int, reason: str) -> Page:
    return page(status, "error", reason, "This request was not understood.")


# -- the terminal ------------------------------------------------------------------------------------------------


def discarded(provider: str) -> str:
    return f"the new token was revoked at {provider}, so nothing valid is left behind"


def not_discarded(provider: str) -> str:
    return (
        f"the new token could not be revoked and may still be valid: revoke the app's access in {provider}'s settings"
    )


def denied(provider: str) -> str:
    return f"login denied: access was refused on {provider}'s page"


def provider_refused(provider: str, message: str) -> str:
    return f"{provider} refused the authorization: {message}"


def refused_page_text(provider: str) -> str:
    return f"You refused access to {provider}."


def opening(start_url: str, provider: str) -> str:
    return f"Opening {start_url} in your browser; it forwards to {provider}'s authorize page."


def handing(start_url: str, provider: str, opener: str) -> str:
    return f"Handing {start_url} to {opener}; it forwards to {provider}'s authorize page."


def opening_provider(provider: str) -> str:
    return f"Opening {provider}'s authorize page in your browser."


def if_not_opened(url: str) -> str:
    return f"If the browser did not open, visit: {url}"


def or_provider_page(url: str) -> str:
    return f"Or open the provider's page: {url}"


def open_yourself(url: str, provider: str | None = None) -> str:
    forwards = f" (it forwards to {provider}'s authorize page)" if provider else ""
    return f"Open this URL in a browser to log in: {url}{forwards}"


def no_browser(url: str) -> str:
    return f"No browser could be opened. Open this URL to log in: {url}"


def try_device(provider: str) -> str:
    return f"{provider} also logs in without a browser here: `loopauth login --device` shows a code to enter elsewhere"


def register_callback(provider: str, callback: str) -> str:
    return f"Callback URL (register this exact URL with {provider}): {callback}"


def ssh_tunnel(start_url: str, port: int, target: str, ssh_port: str, user: str, host: str) -> list[str]:
    return [
        f"Over SSH? On the machine with the browser, run this, then open {start_url} there:",
        f"  ssh -N -L {port}:{target}:{port}{ssh_port} {user}@{host}",
    ]


PASTE_INVITE = "Browser on another machine? Paste the address it lands on here and press Enter."


def pin_next(provider: str) -> str:
    return f"After you authorize, {provider} shows a PIN: type it here and press Enter."


def paste_next(callback: str, why: str) -> list[str]:
    return [
        f"After you authorize, the browser goes to {callback}; nothing here listens there ({why}).",
        "That page may not load: copy the whole address from the browser's address bar, paste it here, press Enter.",
    ]


def privileged_port(port: int) -> str:
    return f"Port {port} needs privileges to listen on, so nothing here will catch the callback."


def not_this_login(reason: str) -> str:
    # The reason never repeats what was pasted: it may hold a verifier.
    return f"That does not complete this login: {reason}. Still waiting; paste the whole address."


def typo_again(oob: bool, tries_left: int) -> str:
    tries = f"{tries_left} {'try' if tries_left == 1 else 'tries'} left"
    if oob:
        return f"The provider rejected that PIN. Check it and type it again ({tries})."
    return f"The provider rejected that verifier. Paste the whole address again ({tries})."


def typo_final(oob: bool, tries: int, status: int | None, detail: str) -> str:
    what = "PIN" if oob else "pasted verifier"
    times = "once" if tries == 1 else f"{tries} times"
    answer = f"{status}: {detail}" if status else detail
    return f"the provider rejected the {what} ({times}; its last answer: {answer}); log in again for a new one"


def prompt(oob: bool) -> str:
    return "PIN: " if oob else "Address: "


def timed_out(timeout: float, waiting_for: str, url: str | None) -> str:
    return f"timed out after {timeout:g} s waiting for {waiting_for}" + (f"; the login URL was {url}" if url else "")


def no_request_token(timeout: float) -> str:
    return f"the provider did not answer the request-token call within {timeout:g} s"


def waiting_for_browser(callback: str) -> str:
    return f"the browser to come back to {callback}"


def duration(seconds: float) -> str:
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def waiting(waiting_for: str, timeout: float, *, paste: bool) -> str:
    also = ", or for the address it lands on to be pasted here" if paste else ""
    return f"Waiting up to {duration(timeout)} for {waiting_for}{also} (Ctrl-C to give up)."


def countdown(left: float) -> str:
    # Fixed width, so a redraw covers the last one without erasing what a person typed after it.
    seconds = max(0, int(left + 0.999))
    return f"waiting, {seconds // 60:2d}:{seconds % 60:02d} left "


WAITING_FOR_PIN = "the PIN"
WAITING_FOR_PASTE = "the address the browser landed on to be pasted"
