"""Benchmark for issue 6: the fast paths other tools hit at every start, and the login itself.

Prints a table of medians and ratios against a bare-Python baseline (and
``gh auth token`` when gh is installed), for an OAuth 1.0a and a fresh OAuth 2.0
profile, and for the active profile after ``loopauth switch``; then the refresh
of a due OAuth 2.0 token against the OAuth 2.0 demo provider; then a login table
against the demo provider with a simulated round trip (150 ms per API call),
compared with a hand-written requests-oauthlib + http.server login
(scripts/bench_baseline.py); then the waiting callback server under a junk load.
Talks to nothing but the local disk and loopback. Exit status is 0 even when a
target is missed: timings on a shared 2-core box are noisy, so the tables are
for a human to read, not a CI gate.

    python scripts/bench.py [--runs 7] [--junk 6000] [--quick]

What each login row measures, per run (the median over the runs is shown):

* start -> browser launched: the bench's ``time.monotonic()`` right before it
  starts the login process, to the first line of the fake browser
  (scripts/bench_browser.py) that the login's ``webbrowser`` call launched.
* start -> authorize page shown: the same start, to the fake browser having
  read the provider's authorize page. loopauth opens the browser on its local
  start page before the request token exists; this row shows what the user
  actually waits for.
* callback sent -> saved, exited: the fake browser's clock right before it
  sends the callback request, to the bench's clock right after the login
  process has been reaped (one provider round trip, the fsynced save, exit).

A run counts only if the process exited 0 and its credentials file holds an
oauth_token; failures are listed under the table.

The refresh rows: one ``loopauth login`` to the OAuth 2.0 demo (public client,
offline.access) makes a real profile; then, per run, the profile's issue and
expiry times are moved into the past (outside the clock) and ``loopauth token
--json`` is timed while it refreshes, then once more while the new token is
fresh. A run counts only if the refresh really happened: the printed access
token is new and is the one stored, next to a new refresh token. "Refresh over
the fresh read" is the median of each run's difference; "loopauth's own" is
that minus the provider's simulated round trip. The demo speaks plain http
and delays each API answer by --delay; a real provider also costs TCP and TLS
round trips, which the baseline pays before it opens the browser and loopauth
pays while the browser starts, so this setup does not favour loopauth.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

RUNS = 20
REFRESH_RUNS = 20
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
"""Where the loopauth under test and the Python that runs both logins live: see install_for_users()."""
BROWSER_SCRIPT = HERE / "bench_browser.py"
BASELINE_SCRIPT = HERE / "bench_baseline.py"
PROVIDER_SCRIPT = HERE / "bench_provider.py"

LOGIN_RUNS = 7
DELAY = 0.15
"""The demo provider's simulated round trip for each API call (request token, access token), seconds."""
LOGIN_TIMEOUT = 30.0
"""A login process still running after this is killed and its run counted as failed."""
JUNK_REQUESTS = 6000
JUNK_CONNECTIONS = 8
JUNK_SECONDS = 15.0
"""The junk burst stops at JUNK_REQUESTS responses or after this long, whichever comes first."""
JUNK_RATE_TARGET = 1500.0
RSS_TARGET_MIB = 80.0
BASELINE_MISSING = "requests-oauthlib not installed (make bench installs .[bench])"
REFRESH_OWN_TARGET_MS = 50.0
"""A due refresh may cost one provider round trip plus at most this much of loopauth's own."""
AGE = 10_000
"""Seconds a profile's issue and expiry times are moved back to make its token due."""


def _medians_ms(
    cmds: list[tuple[list[str], dict[str, str]]], runs: int = RUNS, inputs: dict[int, bytes] | None = None
) -> list[float]:
    """The median wall time of each (command, environment), run round-robin: drift on a shared box (another
    job starting, a cache warming) then hits every row alike, and the ratios between rows stay fair.
    ``inputs`` gives some commands (by index) their stdin; the others inherit it."""
    inputs = inputs or {}
    samples: list[list[float]] = [[] for _ in cmds]
    for _ in range(runs):
        for i, ((cmd, env), times) in enumerate(zip(cmds, samples, strict=True)):
            t0 = time.perf_counter()
            subprocess.run(
                cmd, env=env, input=inputs.get(i), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
            )
            times.append((time.perf_counter() - t0) * 1000)
    return [statistics.median(times) for times in samples]


GIT_GET = b"protocol=https\nhost=api.x.com\npath=project.git\n\n"
"""What git sends ``loopauth credential git get`` for a fetch from the bench profile's provider host."""


def _credential_rows_answer(env: dict[str, str]) -> str | None:
    """Why ``credential git get`` or ``credential kubectl`` did not answer with the fresh profile's token (None: both
    did), so a row never times a failure."""
    bench = _fresh_oauth2_profile()["access_token"]
    for args, stdin in ((["credential", "git", "get"], GIT_GET), (["credential", "kubectl"], None)):
        proc = subprocess.run(
            [str(BIN / "loopauth"), *args], env=env, input=stdin or b"", capture_output=True, check=False
        )
        if proc.returncode != 0 or bench.encode() not in proc.stdout:
            return f"loopauth {' '.join(args)}: exit {proc.returncode}, {proc.stderr.decode()[-200:].strip()!r}"
    return None


def install_for_users(tmp: Path) -> Path:
    """Install loopauth the way users get it, in a throwaway venv, and return its bin directory.

    The development venv's editable install costs every start a setuptools import hook (~15 ms),
    and with PYTHONDONTWRITEBYTECODE set (as on CI machines) it compiles loopauth's modules from
    source at every run; neither is there for someone who ran ``pip install loopauth``. So: a venv
    without pip, a regular (wheel) install of this checkout with its bytecode compiled by pip, and
    a .pth line that puts the development venv's site-packages after it for the dependencies
    (aiohttp, oauthlib, platformdirs, requests-oauthlib). A .pth path line does not run that
    directory's own .pth files, so the editable hook stays out. The baseline script runs on this
    same interpreter, so both sides start alike.
    """
    venv = tmp / "user-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(ROOT)]
    proc = subprocess.run(pip, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"installing loopauth into {venv} failed: {proc.stderr.strip()[-500:]}")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(purelib, "_loopauth_bench_deps.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")
    where = subprocess.run(
        [str(python), "-c", "import loopauth; print(loopauth.__file__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not where.startswith(purelib):
        raise RuntimeError(f"the throwaway venv imports loopauth from {where}, not from its own install")
    return venv / "bin"


def _write_profile(config: Path, data: dict[str, Any], name: str = "default") -> Path:
    """``data`` as the config dir's profile ``name`` (default 'default'): 0600 from the start, replaced atomically."""
    profiles = config / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    path = profiles / f"{name}.json"
    tmp = profiles / f".{name}.json.bench"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    return path


def _oauth1_profile() -> dict[str, Any]:
    """An OAuth 1.0a profile as `loopauth login` writes it (the demo provider's, with no endpoints)."""
    return {
        "profile": "default",
        "provider": "demo",
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "oauth_token": "t",
        "oauth_token_secret": "ts",
        "user_id": "1",
        "screen_name": "u",
        "created_at": "2026-01-01T00:00:00Z",
    }


def _fresh_oauth2_profile() -> dict[str, Any]:
    """An OAuth 2.0 profile as `loopauth login` writes it, issued now for two hours: its token is fresh."""
    now = int(time.time())
    return {
        "protocol": "oauth2",
        "profile": "default",
        "provider": "x-oauth2",
        "client_id": "bench-client-id",
        "access_token": "bench-access-token",
        "token_type": "bearer",
        "expires_at": now + 7200,
        "issued_at": now,
        "scope": "tweet.read users.read offline.access",
        "user_id": "1",
        "screen_name": "u",
        "created_at": "2026-01-01T00:00:00+00:00",
        "endpoints": {
            "name": "x-oauth2",
            "protocol": "oauth2",
            "authorize_url": "https://x.com/i/oauth2/authorize",
            "token_url": "https://api.x.com/2/oauth2/token",
            "scopes": ["tweet.read", "users.read", "offline.access"],
            "client_auth": "basic",
            "revoke_url": "https://api.x.com/2/oauth2/revoke",
            "verify_url": "https://api.x.com/2/users/me",
        },
        "refresh_token": "bench-refresh-token",
    }


def token_table(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOOPAUTH_CONFIG_DIR=tmp)
        oauth2_config = Path(tmp, "oauth2")
        env2 = dict(os.environ, LOOPAUTH_CONFIG_DIR=str(oauth2_config))
        _write_profile(oauth2_config, _fresh_oauth2_profile())
        creds = _oauth1_profile()
        path = _write_profile(Path(tmp), creds)
        # The same profile as 'work', made the active one as `loopauth switch work` does: `token` without --profile
        # then reads <config>/active first (one more small file) to know which profile to print.
        active_config = Path(tmp, "active")
        env_active = dict(os.environ, LOOPAUTH_CONFIG_DIR=str(active_config))
        _write_profile(active_config, {**creds, "profile": "work"}, "work")
        fd = os.open(active_config / "active", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("work\n")
        py = str(BIN / "python")
        gh = shutil.which("gh")
        with keyring_profile(Path(tmp, "keyring"), creds) as (env3, no_keyring):
            cmds = [
                ([py, "-c", f"import json; json.load(open({str(path)!r}))"], env),
                ([py, "-c", "import loopauth; loopauth.load()"], env),
                ([str(BIN / "loopauth"), "token", "--json"], env),
                # Fresh for two hours, so not refreshed: the fast path of OAuth 1.0a (read, check the clock, print).
                ([str(BIN / "loopauth"), "token", "--json"], env2),
                ([str(BIN / "loopauth"), "token", "--json"], env_active),
                # What git runs at every fetch, and kubectl at every expiry, on the fresh OAuth 2.0 profile.
                ([str(BIN / "loopauth"), "credential", "git", "get"], env2),
                ([str(BIN / "loopauth"), "credential", "kubectl"], env2),
                # The OAuth 1.0a profile again, its secrets in the Secret Service (gnome-keyring on a private bus).
                *([([str(BIN / "loopauth"), "token", "--json"], env3)] if env3 else []),
                *([([gh, "auth", "token"], env)] if gh else []),
            ]
            credential_failure = _credential_rows_answer(env2)
            times = _medians_ms(cmds, runs, inputs={5: GIT_GET})
            bare, load, token, token2, token_active, git_get, kubectl, *rest = times
        rows = [
            ("python json.load (baseline)", bare, 1.0, "-"),
            ("import loopauth; load()", load, load / bare, "<= 2.0x"),
            ("loopauth token --json, OAuth 1.0a", token, token / bare, "<= gh"),
            ("loopauth token --json, OAuth 2.0", token2, token2 / bare, f"<= gh ({token2 / token:.2f}x OAuth 1.0a)"),
            (
                "loopauth token --json, switched",
                token_active,
                token_active / bare,
                f"<= gh ({token_active / token:.2f}x OAuth 1.0a)",
            ),
        ]
        if credential_failure is None:
            rows += [
                ("loopauth credential git get", git_get, git_get / bare, f"<= gh ({git_get / token2:.2f}x token)"),
                ("loopauth credential kubectl", kubectl, kubectl / bare, f"<= gh ({kubectl / token2:.2f}x token)"),
            ]
        if env3:
            token3 = rest.pop(0)
            rows.append(
                ("loopauth token --json, keyring", token3, token3 / bare, f"- ({token3 / token:.2f}x the file store)")
            )
        if rest:
            rows.append(("gh auth token", rest[0], rest[0] / bare, "-"))
        print(f"{'measurement':34} {'median ms':>10} {'vs baseline':>12}  target")
        for name, ms, ratio, target in rows:
            print(f"{name:34} {ms:10.1f} {ratio:11.2f}x  {target}")
        if not gh:
            print("(gh not installed: no gh comparison)")
        if not env3:
            print(f"(no keyring row: {no_keyring})")
        if credential_failure is not None:
            print(f"(no credential rows: {credential_failure})")


VERBS: list[tuple[str, list[str], str]] = [
    ("loopauth header, OAuth 1.0a", ["header", "GET", "https://api.x.com/2/users/me"], "oauth1"),
    ("loopauth header, OAuth 2.0", ["header", "GET", "https://api.x.com/2/users/me"], "oauth2"),
    ("loopauth exec -- true", ["exec", "--", "true"], "oauth1"),
    ("loopauth status", ["status"], "oauth1"),
    ("loopauth list", ["list"], "oauth1"),
    ("loopauth --version", ["--version"], "oauth1"),
]
"""The other verbs a script or a prompt calls, each against the OAuth 1.0a profile of token_table (header also
against its fresh OAuth 2.0 one): none of them sends a request."""
VERB_TARGET = 1.0
"""Each verb at most this many times ``gh auth token`` (a Go binary that reads one file)."""
SIGNS_WITH_OAUTHLIB = "loopauth header, OAuth 1.0a"
"""The verb whose target also allows for importing oauthlib's OAuth 1.0a client, which signs it (README, Performance):
that import alone pulls in urllib.request, http.client, email and ssl, none of which loopauth itself loads here."""


OAUTHLIB_IMPORT = """\
import time
from loopauth.oauth1 import signing  # what `header` has loaded when it asks for oauthlib's client
start = time.perf_counter()
signing.oauthlib_client()
print((time.perf_counter() - start) * 1000)
"""
"""Prints what importing oauthlib's OAuth 1.0a client costs ``loopauth header`` (in ms): measured inside a process
that has already loaded what the header's own code needs, so only what oauthlib adds is counted."""


def _oauthlib_import_ms(env: dict[str, str], runs: int) -> float:
    """The median of :data:`OAUTHLIB_IMPORT` over ``runs`` fresh processes of the loopauth under test."""
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [str(BIN / "python"), "-c", OAUTHLIB_IMPORT], env=env, capture_output=True, text=True, check=True
        ).stdout
        times.append(float(out))
    return statistics.median(times)


def verb_table(runs: int) -> None:
    """The VERBS, round-robin with ``token --json`` and ``gh auth token`` (or, without gh, the bare ``json.load``
    floor), each checked to exit 0 first: an error path would be measured as a fast verb."""
    with tempfile.TemporaryDirectory() as tmp:
        oauth1_config, oauth2_config = Path(tmp, "oauth1"), Path(tmp, "oauth2")
        path = _write_profile(oauth1_config, _oauth1_profile())
        _write_profile(oauth2_config, _fresh_oauth2_profile())
        envs = {
            "oauth1": dict(os.environ, LOOPAUTH_CONFIG_DIR=str(oauth1_config)),
            "oauth2": dict(os.environ, LOOPAUTH_CONFIG_DIR=str(oauth2_config)),
        }
        loopauth = str(BIN / "loopauth")
        gh = shutil.which("gh")
        reference = (
            ("gh auth token", [gh, "auth", "token"])
            if gh
            else (
                "python json.load (floor)",
                [str(BIN / "python"), "-c", f"import json; json.load(open({str(path)!r}))"],
            )
        )
        rows = [("loopauth token --json (for scale)", [loopauth, "token", "--json"], "oauth1")]
        rows += [(name, [loopauth, *argv], env) for name, argv, env in VERBS]
        for name, cmd, env in rows:
            proc = subprocess.run(cmd, env=envs[env], capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"{name} exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        cmds = [(reference[1], envs["oauth1"]), *[(cmd, envs[env]) for _, cmd, env in rows]]
        ref, *medians = _medians_ms(cmds, runs)
        oauthlib_ms = _oauthlib_import_ms(envs["oauth1"], runs)
    against = "gh" if gh else "floor"
    print()
    print(f"{'measurement':34} {'median ms':>10} {'vs ' + against:>12}  target")
    print(f"{reference[0]:34} {ref:10.1f} {1.0:11.2f}x  -")
    for (name, _, _), ms in zip(rows, medians, strict=True):
        allowed, plus = VERB_TARGET * ref, ""
        if name == SIGNS_WITH_OAUTHLIB:
            allowed, plus = allowed + oauthlib_ms, f" + oauthlib's import ({oauthlib_ms:.1f} ms)"
        if name.startswith("loopauth token"):
            target = "-"
        elif gh:
            target = f"<= {VERB_TARGET:.1f}x gh{plus}: {'met' if ms <= allowed else 'missed'}"
        else:
            target = f"<= {VERB_TARGET:.1f}x gh{plus}"
        print(f"{name:34} {ms:10.1f} {ms / ref:11.2f}x  {target}")
    print(f"{'  import oauthlib.oauth1 alone':34} {oauthlib_ms:10.1f} {oauthlib_ms / ref:11.2f}x  -")
    if not gh:
        print("(gh not installed: the verbs are shown against the bare-Python floor)")


@contextlib.contextmanager
def keyring_profile(config: Path, creds: dict[str, Any]) -> Iterator[tuple[dict[str, str] | None, str]]:
    """``creds`` as a keyring profile in ``config``, its secrets in a throwaway Secret Service (the tests' harness,
    tests/secret_service.py); yields the environment that reaches both, or None and why there is none."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.secret_service import missing_binaries, running_secret_service
    except ImportError as exc:
        harness_missing: str | None = str(exc)
    else:
        harness_missing = None
    finally:
        sys.path.remove(str(ROOT))
    if harness_missing is not None:
        yield None, f"the Secret Service harness cannot be imported ({harness_missing})"
        return
    if missing_binaries():
        yield None, f"no {', '.join(missing_binaries())} here: make secret-service installs them"
        return
    if importlib.util.find_spec("keyring") is None:
        yield None, "the keyring package is not installed: pip install 'loopauth[keyring]'"
        return
    with running_secret_service() as service:
        env = service.subprocess_env({**os.environ, "LOOPAUTH_CONFIG_DIR": str(config)})
        # Saved by the loopauth under test, as `loopauth login --store keyring` would; then checked to read back.
        save = (
            "import json, sys; from loopauth.models import credentials_from_dict; from loopauth.store import "
            "CredentialStore; CredentialStore().save(credentials_from_dict(json.loads(sys.argv[1])), kind='keyring')"
        )
        subprocess.run([str(BIN / "python"), "-c", save, json.dumps(creds)], env=env, check=True)
        stored = json.loads((config / "profiles" / "default.json").read_text(encoding="utf-8"))
        read = subprocess.run(
            [str(BIN / "loopauth"), "token", "--json"], env=env, capture_output=True, text=True, check=False
        )
        if stored.get("store") != "keyring" or "oauth_token" in stored or read.returncode != 0:
            raise RuntimeError(f"the keyring profile did not save and read back: {read.stderr.strip()}")
        if json.loads(read.stdout)["oauth_token_secret"] != creds["oauth_token_secret"]:
            raise RuntimeError("the keyring profile read back other secrets than were saved")
        yield env, ""


# --- processes --------------------------------------------------------------------------------------------------


def _wait(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, bool]:
    """Reap ``proc`` with a blocking waitpid, so the moment it returns is the moment the process ended.

    ``Popen.wait(timeout=...)`` polls with sleeps of up to 50 ms, too coarse for this clock; a timer kills
    a process that overstays instead. Returns (exit status, whether it was killed).
    """
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.daemon = True
    timer.start()
    try:
        return proc.wait(), killed.is_set()
    finally:
        timer.cancel()


def _read_marks(path: Path, timeout: float) -> dict[str, Any]:
    """The fake browser's JSON marks; it writes them atomically, possibly just after the login exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            return data
        except FileNotFoundError:
            time.sleep(0.005)
    return {"error": f"the fake browser wrote no marks within {timeout:g} s"}


def _saved_token(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text(encoding="utf-8")).get("oauth_token"))
    except (OSError, ValueError, AttributeError):
        return False


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:200] if lines else ""


def browser_command(*flags: str) -> str:
    """The BROWSER value: -I -S so the fake browser starts as fast as Python can (stdlib only)."""
    return shlex.join([sys.executable, "-I", "-S", str(BROWSER_SCRIPT), *flags]) + " %s"


@dataclass(frozen=True)
class OAuth2Demo:
    authorize_url: str
    token_url: str
    verify_url: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Provider:
    request_token_url: str
    authorize_url: str
    access_token_url: str
    consumer_key: str
    consumer_secret: str
    oauth2: OAuth2Demo


class ProviderProcess:
    """scripts/bench_provider.py: the demo providers in their own process, for as long as the ``with`` lasts."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Provider:
        self.proc = subprocess.Popen(
            [sys.executable, str(PROVIDER_SCRIPT), "--delay", str(self.delay)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.__exit__()
            raise RuntimeError("the demo provider did not start")
        info = json.loads(line)
        o2 = info["oauth2"]
        return Provider(
            info["request_token_url"],
            info["authorize_url"],
            info["access_token_url"],
            info["consumer_key"],
            info["consumer_secret"],
            OAuth2Demo(o2["authorize_url"], o2["token_url"], o2["verify_url"], o2["client_id"], tuple(o2["scopes"])),
        )

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        proc.stdin.close()  # the provider's signal to shut down
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _provider_args(p: Provider) -> list[str]:
    """The options loopauth login and the baseline script share."""
    return [
        "--consumer-key",
        p.consumer_key,
        "--consumer-secret",
        p.consumer_secret,
        "--request-token-url",
        p.request_token_url,
        "--authorize-url",
        p.authorize_url,
        "--access-token-url",
        p.access_token_url,
    ]


def loopauth_command(p: Provider, timeout: float) -> list[str]:
    return [
        str(BIN / "loopauth"),
        "login",
        "--provider",
        "demo",
        *_provider_args(p),
        "--port",
        "0",
        "--timeout",
        f"{timeout:g}",
    ]


def baseline_command(p: Provider, out: Path, timeout: float) -> list[str]:
    return [
        str(BIN / "python"),
        str(BASELINE_SCRIPT),
        *_provider_args(p),
        "--out",
        str(out),
        "--timeout",
        f"{timeout:g}",
    ]


def _child_env(config: Path, browser: str, marks: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPAUTH_")}
    env.update(LOOPAUTH_CONFIG_DIR=str(config), BROWSER=browser, BENCH_BROWSER_OUT=str(marks))
    return env


# --- login timings ----------------------------------------------------------------------------------------------


@dataclass
class Run:
    launched: float | None = None
    authorize: float | None = None
    finish: float | None = None
    error: str | None = None


def login_once(side: str, provider: Provider, workdir: Path, *, blocking: bool = False) -> Run:
    """One login by ``side`` ("loopauth" or "baseline"), with the fake browser approving; times in ms.

    ``blocking``: the browser stays in the foreground until it has read the callback's page, as a terminal
    browser (w3m, lynx) named in BROWSER does, so the launch reports only after the login has answered.
    """
    config = Path(tempfile.mkdtemp(prefix=f"{side}-", dir=workdir))
    marks_path = config / "browser.json"
    creds_path = config / "profiles" / "default.json"
    log_path = config / "output.log"
    if side == "loopauth":
        cmd = loopauth_command(provider, LOGIN_TIMEOUT - 5)
    else:
        cmd = baseline_command(provider, creds_path, LOGIN_TIMEOUT - 5)
    env = _child_env(config, browser_command(*(["--no-detach"] if blocking else [])), marks_path)
    with open(log_path, "wb") as log:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        code, killed = _wait(proc, LOGIN_TIMEOUT)
        exited = time.monotonic()
    marks = _read_marks(marks_path, 5.0)
    run = Run()
    if "launched" in marks:
        run.launched = (marks["launched"] - start) * 1000
    if "authorize_shown" in marks:
        run.authorize = (marks["authorize_shown"] - start) * 1000
    if "callback_sent" in marks:
        run.finish = (exited - marks["callback_sent"]) * 1000
    if killed:
        run.error = f"killed after {LOGIN_TIMEOUT:g} s"
    elif code != 0:
        run.error = f"exit status {code}: {_tail(log_path)}"
    elif not _saved_token(creds_path):
        run.error = "exited 0 but saved no credentials with an oauth_token"
    elif marks.get("error"):
        run.error = f"fake browser: {marks['error']}"
    elif marks.get("callback_status") != 200:
        run.error = f"the callback answered {marks.get('callback_status')}"
    return run


@dataclass
class Side:
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.error is None]

    def median(self, what: Callable[[Run], float | None]) -> float | None:
        values = [v for v in map(what, self.ok) if v is not None]
        return statistics.median(values) if values else None

    def spread(self, what: Callable[[Run], float | None]) -> str:
        values = [v for v in map(what, self.ok) if v is not None]
        return f"{min(values):.0f}-{max(values):.0f}" if len(values) > 1 else ""


def login_table(provider: Provider, workdir: Path, runs: int, delay: float, baseline: bool) -> None:
    sides = {"loopauth": Side(), "baseline": Side()}
    blocking = {"loopauth": Side(), "baseline": Side()}
    order = ["loopauth", "baseline"] if baseline else ["loopauth"]
    # One unrecorded round first (when there are several): the first run of each pays for cold caches.
    warmup = 1 if runs > 1 else 0
    for i in range(warmup + runs):
        # Alternate who goes first, so drift on the box (another job, a warming cache) hits both alike.
        for side in order if i % 2 == 0 else order[::-1]:
            for browser, results in ((False, sides), (True, blocking)):
                run = login_once(side, provider, workdir, blocking=browser)
                if i >= warmup:
                    results[side].runs.append(run)

    print()
    print(f"login against the demo provider ({delay * 1000:.0f} ms per API round trip), {runs} run(s) each;")
    print("medians in ms, min-max in brackets; ratio = loopauth / hand-written requests-oauthlib + http.server")
    print(f"{'measurement':34} {'loopauth':>16} {'baseline':>16} {'ratio':>7}  target")
    finish: Callable[[Run], float | None] = lambda r: r.finish  # noqa: E731 - one row's measure, named
    rows: list[tuple[str, Callable[[Run], float | None], dict[str, Side]]] = [
        ("start -> browser launched", lambda r: r.launched, sides),
        ("start -> authorize page shown", lambda r: r.authorize, sides),
        ("callback sent -> saved, exited", finish, sides),
        ("  ... with a browser that blocks", finish, blocking),
    ]
    for name, what, results in rows:
        la, bl = results["loopauth"], results["baseline"]
        target = "<= baseline"
        lm, bm = la.median(what), bl.median(what)
        lcell = _cell(lm, la.spread(what))
        bcell = _cell(bm, bl.spread(what)) if baseline else "n/a"
        ratio = f"{lm / bm:6.2f}x" if lm is not None and bm is not None else f"{'-':>7}"
        if not baseline:
            verdict = f"{target}: not compared, {BASELINE_MISSING}"
        elif lm is None or bm is None:
            verdict = f"{target}: not measured (failed runs)"
        else:
            verdict = f"{target}: {'met' if lm <= bm else 'MISSED'}"
        print(f"{name:34} {lcell:>16} {bcell:>16} {ratio}  {verdict}")
    every = {side: [*sides[side].runs, *blocking[side].runs] for side in sides}
    ok = {side: sum(r.error is None for r in side_runs) for side, side_runs in every.items()}
    lok = f"{ok['loopauth']}/{len(every['loopauth'])}"
    bok = f"{ok['baseline']}/{len(every['baseline'])}" if baseline else "n/a"
    print(f"{'runs ok (exit 0, token saved)':34} {lok:>16} {bok:>16}")
    for side_name, tried in every.items():
        for n, result in enumerate(tried, 1):
            if result.error is not None:
                print(f"  {side_name} run {n} failed: {result.error}")


def _cell(value: float | None, spread: str) -> str:
    if value is None:
        return "failed"
    return f"{value:.1f}" + (f" ({spread})" if spread else "")


# --- refreshing a due OAuth 2.0 token ---------------------------------------------------------------------------


def oauth2_login_command(p: OAuth2Demo, timeout: float) -> list[str]:
    return [
        str(BIN / "loopauth"),
        "login",
        "--provider",
        "demo-oauth2",
        "--authorize-url",
        p.authorize_url,
        "--token-url",
        p.token_url,
        "--verify-url",
        p.verify_url,
        "--client-id",
        p.client_id,
        "--scope",
        " ".join(p.scopes),
        "--port",
        "0",
        "--timeout",
        f"{timeout:g}",
    ]


def _read_profile(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _age_profile(path: Path) -> dict[str, Any]:
    """Make the stored token due, as if AGE seconds had passed since it was issued; return the profile."""
    data = _read_profile(path)
    data["expires_at"] -= AGE
    data["issued_at"] -= AGE
    _write_profile(path.parent.parent, data)
    return data


@dataclass
class RefreshRun:
    due: float | None = None
    fresh: float | None = None
    error: str | None = None


def _timed_token(env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    cmd = [str(BIN / "loopauth"), "token", "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)
    return (time.perf_counter() - t0) * 1000, proc


def refresh_once(path: Path, env: dict[str, str]) -> RefreshRun:
    """One due read (it must refresh: a new access token, printed and stored, and a new refresh token), then
    one fresh read of what it stored (it must not)."""
    run = RefreshRun()
    before = _age_profile(path)
    ms, proc = _timed_token(env)
    after = _read_profile(path)
    try:
        printed = json.loads(proc.stdout).get("access_token") if proc.returncode == 0 else None
    except ValueError:
        printed = None
    if proc.returncode != 0:
        run.error = f"due read: exit status {proc.returncode}: {proc.stderr.strip()[-200:]}"
    elif printed == before["access_token"] or printed != after.get("access_token"):
        run.error = "due read: the access token printed is not a new one stored by a refresh"
    elif not after.get("refresh_token") or after["refresh_token"] == before.get("refresh_token"):
        run.error = "due read: no new (rotated) refresh token was stored"
    else:
        run.due = ms
    ms, proc = _timed_token(env)
    unchanged = _read_profile(path).get("access_token") == after.get("access_token")
    if run.error is None and (proc.returncode != 0 or not unchanged):
        run.error = f"fresh read: exit status {proc.returncode}, token {'kept' if unchanged else 'REFRESHED'}"
    elif run.error is None:
        run.fresh = ms
    return run


def refresh_table(provider: Provider, workdir: Path, runs: int, delay: float) -> None:
    """`loopauth token --json` on a due OAuth 2.0 profile (one refresh) and on a fresh one, interleaved."""
    p = provider.oauth2
    config = Path(tempfile.mkdtemp(prefix="refresh-", dir=workdir))
    path = config / "profiles" / "default.json"
    log_path = config / "login.log"
    env = _child_env(config, browser_command(), config / "browser.json")
    print()
    print("refresh of a due OAuth 2.0 token: loopauth token --json against the OAuth 2.0 demo provider in its own")
    print(f"process ({delay * 1000:.0f} ms per API round trip), {runs} run(s); medians in ms, min-max in brackets")
    with open(log_path, "wb") as log:
        login = subprocess.Popen(
            oauth2_login_command(p, LOGIN_TIMEOUT - 5), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        code, killed = _wait(login, LOGIN_TIMEOUT)
    if killed or code != 0 or not _read_profile(path).get("refresh_token"):
        print(f"  the OAuth 2.0 login failed (exit status {code}): {_tail(log_path)}; no refresh measured")
        return
    done: list[RefreshRun] = []
    warmup = 1 if runs > 1 else 0  # the first refresh pays for cold caches, as the first login does
    for i in range(warmup + runs):
        run = refresh_once(path, env)
        if i >= warmup:
            done.append(run)
    ok = [r for r in done if r.error is None]
    due = [r.due for r in ok if r.due is not None]
    fresh = [r.fresh for r in ok if r.fresh is not None]
    extra = [r.due - r.fresh for r in ok if r.due is not None and r.fresh is not None]
    round_trip = delay * 1000
    print(f"{'measurement':34} {'median ms':>16}  target")
    print(f"{'token --json, fresh (no refresh)':34} {_cell(_median(fresh), _spread(fresh)):>16}  -")
    print(f"{'token --json, due (one refresh)':34} {_cell(_median(due), _spread(due)):>16}  -")
    over = _median(extra)
    limit = round_trip + REFRESH_OWN_TARGET_MS
    over_target = f"<= {limit:.0f} ({round_trip:.0f} round trip + {REFRESH_OWN_TARGET_MS:.0f})"
    print(
        f"{'  refresh over the fresh read':34} {_cell(over, _spread(extra)):>16}  "
        f"{over_target}: {'not measured' if over is None else _met(over <= limit)}"
    )
    own = None if over is None else over - round_trip
    own_cell = "failed" if own is None else f"{own:.1f}"
    own_verdict = "not measured" if own is None else _met(own <= REFRESH_OWN_TARGET_MS)
    own_label = "  of which loopauth's own"
    print(f"{own_label:34} {own_cell:>16}  <= {REFRESH_OWN_TARGET_MS:.0f}: {own_verdict}")
    print(f"{'refreshes ok (rotated and saved)':34} {f'{len(ok)}/{len(done)}':>16}  all: {_met(len(ok) == len(done))}")
    for n, run in enumerate(done, 1):
        if run.error is not None:
            print(f"  refresh run {n} failed: {run.error}")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _spread(values: list[float]) -> str:
    return f"{min(values):.0f}-{max(values):.0f}" if len(values) > 1 else ""


# --- junk load --------------------------------------------------------------------------------------------------

# (name, method, path, Host header or None for the right one, body, expected status)
JUNK: list[tuple[str, str, str, str | None, bytes, int]] = [
    ("unknown path", "GET", "/nope/{i}", None, b"", 404),
    ("favicon", "GET", "/favicon.ico", None, b"", 404),
    ("callback, wrong token", "GET", "/callback?oauth_token=junk{i}&oauth_verifier=v{i}", None, b"", 400),
    ("denial, wrong token", "GET", "/callback?denied=junk{i}", None, b"", 400),
    ("callback, no query", "GET", "/callback", None, b"", 400),
    ("foreign Host", "GET", "/", "evil.example", b"", 421),
    ("root (the start page is elsewhere)", "GET", "/", None, b"", 404),
    ("HEAD root", "HEAD", "/", None, b"", 404),
    ("POST callback", "POST", "/callback", None, b"oauth_token=junk&oauth_verifier=v", 405),
]


@dataclass
class Burst:
    answered: int = 0
    elapsed: float = 0.0
    unexpected: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    errors: Counter[str] = field(default_factory=Counter)


async def _blast(port: int, total: int, connections: int, seconds: float) -> Burst:
    """Send ``total`` junk requests over ``connections`` keep-alive connections to 127.0.0.1:port, bounded in time."""
    burst = Burst()
    counter = iter(range(total))
    deadline = time.monotonic() + seconds

    async def read_response(reader: asyncio.StreamReader, head: bool) -> tuple[int, bool]:
        header = await reader.readuntil(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        version, status = lines[0].split(" ", 2)[:2]
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        if "chunked" in fields.get("transfer-encoding", ""):
            raise ValueError("chunked response")
        if not head:
            await reader.readexactly(int(fields.get("content-length", "0")))
        close = fields.get("connection") == "close" or version == "HTTP/1.0"
        return int(status), close

    async def worker() -> None:
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        try:
            for i in counter:
                if time.monotonic() > deadline:
                    return
                name, method, path, host, body, expected = JUNK[i % len(JUNK)]
                request = (
                    f"{method} {path.format(i=i)} HTTP/1.1\r\nHost: {host or f'127.0.0.1:{port}'}\r\n"
                    f"Content-Length: {len(body)}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
                ).encode() + body
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert reader is not None
                try:
                    writer.write(request)
                    status, close = await asyncio.wait_for(read_response(reader, method == "HEAD"), 10)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                    burst.errors[f"{name}: {exc.__class__.__name__}"] += 1
                    close, status = True, 0
                else:
                    burst.answered += 1
                    if status != expected:
                        burst.unexpected[f"{name}: {status} (expected {expected})"] += 1
                if close:
                    writer.close()
                    writer, reader = None, None
                    burst.reconnects += 1
        finally:
            if writer is not None:
                writer.close()

    t0 = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(connections)))
    burst.elapsed = time.monotonic() - t0
    return burst


def _proc_status(pid: int, key: str) -> float | None:
    """A /proc/PID/status memory figure in MiB (Linux only; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(f"{key}:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def junk_table(provider: Provider, workdir: Path, total: int, seconds: float) -> None:
    config = Path(tempfile.mkdtemp(prefix="junk-", dir=workdir))
    marks_path = config / "browser.json"
    log_path = config / "output.log"
    env = _child_env(config, browser_command("--record-only"), marks_path)
    print()
    print(f"junk load on loopauth's waiting callback server: up to {total} requests over {JUNK_CONNECTIONS}")
    print(f"keep-alive connections from loopback (bench's asyncio client; at most {seconds:g} s)")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            loopauth_command(provider, 120), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            marks = _read_marks(marks_path, 20.0)
            url = marks.get("url")
            if not isinstance(url, str):
                print(f"  loopauth never opened a browser: {marks.get('error')}; {_tail(log_path)}")
                return
            port = urlsplit(url).port or 80
            # The browser is opened after the server is bound; wait for the request token as well, so the
            # junk meets the login in the state it spends its life in: waiting for the callback. (Not by
            # fetching the start page: it forwards once, and the real visit below needs it.)
            if not _wait_for_request_token(log_path):
                print("  loopauth never said it had a request token; junk goes to it anyway")
            rss_before = _proc_status(proc.pid, "VmRSS")
            burst = asyncio.run(_blast(port, total, JUNK_CONNECTIONS, seconds))
            peak = _proc_status(proc.pid, "VmHWM")
            alive = proc.poll() is None
            # Finish the real login, so the process exits the way it should.
            finish_marks = config / "finish.json"
            with contextlib.suppress(subprocess.TimeoutExpired):  # then loopauth times out, and we say so
                subprocess.run(
                    [sys.executable, "-I", "-S", str(BROWSER_SCRIPT), "--no-detach", url],
                    env={**env, "BENCH_BROWSER_OUT": str(finish_marks)},
                    timeout=LOGIN_TIMEOUT,
                    check=False,
                )
            code, killed = _wait(proc, LOGIN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    rate = burst.answered / burst.elapsed if burst.elapsed > 0 else 0.0
    sent = burst.answered + sum(burst.errors.values())
    print(f"{'measurement':34} {'value':>16}  target")
    print(f"{'junk answered per second':34} {rate:16.0f}  >= {JUNK_RATE_TARGET:.0f}: {_met(rate >= JUNK_RATE_TARGET)}")
    if peak is None:
        print(f"{'peak RSS (VmHWM), MiB':34} {'n/a':>16}  < {RSS_TARGET_MIB:.0f}: not measured (no /proc here)")
    else:
        print(f"{'peak RSS (VmHWM), MiB':34} {peak:16.1f}  < {RSS_TARGET_MIB:.0f}: {_met(peak < RSS_TARGET_MIB)}")
    if rss_before is not None:
        print(f"{'RSS before the junk, MiB':34} {rss_before:16.1f}")
    expected = burst.answered - sum(burst.unexpected.values())
    all_expected = expected == sent and sent > 0
    print(f"{'junk answered as expected (4xx)':34} {f'{expected}/{sent}':>16}  all: {_met(all_expected)}")
    print(f"{'connections reopened':34} {burst.reconnects:16d}")
    print(f"{'still waiting after the junk':34} {'yes' if alive else 'NO':>16}")
    saved = _saved_token(config / "profiles" / "default.json")
    finished = code == 0 and not killed and saved
    outcome = "yes" if finished else ("killed" if killed else f"exit {code}" + ("" if saved else ", nothing saved"))
    print(f"{'login completed after the junk':34} {outcome:>16}  exit 0 and saved: {_met(finished)}")
    for what, n in [*burst.unexpected.items(), *burst.errors.items()]:
        print(f"  {n} x {what}")
    if not finished:
        print(f"  loopauth said: {_tail(log_path)}")


def _wait_for_request_token(log_path: Path) -> bool:
    """Wait (bounded) for loopauth to print the provider's own URL, which it does once the request token is in."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if b"If the browser did not open, visit: " in log_path.read_bytes():
            return True
        time.sleep(0.05)
    return False


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark loopauth's fast paths and login (issue 6).")
    parser.add_argument("--runs", type=int, default=LOGIN_RUNS, help=f"logins per side (default {LOGIN_RUNS})")
    parser.add_argument("--token-runs", type=int, default=RUNS, help=f"runs per token/load row (default {RUNS})")
    parser.add_argument(
        "--refresh-runs", type=int, default=REFRESH_RUNS, help=f"due OAuth 2.0 refreshes (default {REFRESH_RUNS})"
    )
    parser.add_argument("--junk", type=int, default=JUNK_REQUESTS, help=f"junk requests (default {JUNK_REQUESTS})")
    parser.add_argument("--junk-seconds", type=float, default=JUNK_SECONDS, help="time bound of the junk burst")
    parser.add_argument("--delay", type=float, default=DELAY, help="the provider's simulated round trip, seconds")
    parser.add_argument(
        "--dev-install",
        action="store_true",
        help="measure the loopauth of the running venv (editable) instead of a regular install like users get",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one run each, a short junk burst, --dev-install (for the tests)"
    )
    args = parser.parse_args()
    if args.quick:
        args.runs, args.token_runs, args.refresh_runs, args.junk, args.junk_seconds = 1, 1, 2, 300, 5.0
        args.dev_install = True
    if min(args.runs, args.token_runs, args.refresh_runs, args.junk) < 1 or args.junk_seconds <= 0 or args.delay < 0:
        parser.error(
            "--runs, --token-runs, --refresh-runs and --junk must be at least 1; --junk-seconds positive; --delay >= 0"
        )

    global BIN
    baseline = importlib.util.find_spec("requests_oauthlib") is not None
    with tempfile.TemporaryDirectory(prefix="loopauth-bench-") as tmp, ProviderProcess(args.delay) as provider:
        # `python -c` puts the working directory first on sys.path: from the checkout, that would import
        # the source tree instead of the install under test.
        os.chdir(tmp)
        if args.dev_install:
            print(f"loopauth under test: the development install in {BIN.parent} (--dev-install)")
        else:
            BIN = install_for_users(Path(tmp))
            print("loopauth under test: a regular install of this checkout (bytecode compiled), as users get it")
        print()
        token_table(args.token_runs)
        verb_table(args.token_runs)
        refresh_table(provider, Path(tmp), args.refresh_runs, args.delay)
        login_table(provider, Path(tmp), args.runs, args.delay, baseline)
        junk_table(provider, Path(tmp), args.junk, args.junk_seconds)
    if not baseline:
        print(f"\n(baseline: {BASELINE_MISSING})")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
