"""`loopauth request` with the bodies modern APIs take: JSON, raw text or bytes, multipart uploads.

Only a form body is signed (RFC 5849 §3.4.1.3); these go as they are, and the demo provider, which
verifies every signature, still accepts the request. Its echo endpoint says what it received.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from .conftest import Cli, CliAsync
from .demo_probes import DemoProvider
from .test_tools import _logged_in


async def test_json_body_is_sent_as_application_json_and_the_request_still_verifies(
    cli_async: CliAsync, demo: DemoProvider
) -> None:
    """--json: POST, Content-Type and Accept application/json, the body byte for byte, the signature accepted."""
    await _logged_in(demo)
    body = '{"text": "hi é 😀", "reply": {"in_reply_to_tweet_id": "1"}}'
    result = await cli_async("request", "--json", body, demo.echo_url + "?x=1")
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert echoed["method"] == "POST"
    assert echoed["content_type"] == "application/json"
    assert echoed["json"] == json.loads(body)
    assert echoed["body_sha256"] == hashlib.sha256(body.encode()).hexdigest()
    assert echoed["query"] == {"x": "1"}
    assert echoed["form"] == {}
    assert demo.last_request_headers["echo"]["Accept"] == "application/json"


async def test_readme_x_api_v2_post_tweets_example(cli_async: CliAsync, demo: DemoProvider) -> None:
    """The README's `request --json '{"text":"hi"}' …/2/tweets` creates a tweet (201) on the demo."""
    await _logged_in(demo)
    result = await cli_async("request", "--json", '{"text":"hi"}', f"{demo.base_url}/2/tweets")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)["data"]
    assert data["text"] == "hi"
    assert demo.api_state.tweets[data["id"]] == "hi"


async def test_json_from_a_file_and_a_put(cli_async: CliAsync, demo: DemoProvider, tmp_path: Path) -> None:
    """--json @FILE reads the file; -X picks another method."""
    await _logged_in(demo)
    path = tmp_path / "body.json"
    path.write_text('[1, 2, {"a": null}]\n', encoding="utf-8")
    result = await cli_async("request", "-X", "PUT", "--json", f"@{path}", demo.echo_url)
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert (echoed["method"], echoed["json"]) == ("PUT", [1, 2, {"a": None}])


async def test_data_raw_and_data_binary_go_with_their_content_type(
    cli_async: CliAsync, demo: DemoProvider, tmp_path: Path
) -> None:
    """--data-raw sends text as written; --data-binary @FILE sends the file's bytes, unchanged."""
    await _logged_in(demo)
    raw = await cli_async(
        "request", "-H", "content-type: text/plain; charset=utf-8", "--data-raw", "a=b & c\n", demo.echo_url
    )
    assert raw.returncode == 0, raw.stderr
    echoed = json.loads(raw.stdout)
    assert echoed["text"] == "a=b & c\n"
    assert echoed["content_type"] == "text/plain; charset=utf-8"  # one Content-Type: the one given, any case
    blob = bytes(range(256)) * 4
    path = tmp_path / "blob.bin"
    path.write_bytes(blob)
    binary = await cli_async(
        "request", "-H", "Content-Type: application/octet-stream", "--data-binary", f"@{path}", demo.echo_url
    )
    assert binary.returncode == 0, binary.stderr
    echoed = json.loads(binary.stdout)
    assert echoed["body_length"] == len(blob)
    assert echoed["body_sha256"] == hashlib.sha256(blob).hexdigest()


async def test_multipart_upload_sends_files_and_fields(cli_async: CliAsync, demo: DemoProvider, tmp_path: Path) -> None:
    """-F name=@file uploads the file (name, type, bytes) and -F name=value a field, as twurl's -f does."""
    await _logged_in(demo)
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    result = await cli_async(
        "request", "-F", f"media=@{picture}", "-F", "note=é 😀", "-F", f"raw=@{picture};type=image/x-raw", demo.echo_url
    )
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert echoed["content_type"].startswith("multipart/form-data; boundary=")
    media, note, raw = echoed["parts"]
    assert media == {
        "name": "media",
        "filename": "cat.png",
        "content_type": "image/png",
        "size": picture.stat().st_size,
        "sha256": hashlib.sha256(picture.read_bytes()).hexdigest(),
    }
    assert note == {"name": "note", "value": "é 😀"}
    assert raw["content_type"] == "image/x-raw"
    upload = await cli_async("request", "-F", f"media=@{picture}", f"{demo.base_url}/1.1/media/upload.json")
    assert upload.returncode == 0, upload.stderr
    assert json.loads(upload.stdout)["size"] == picture.stat().st_size


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--json", "{'text': 'hi'}"), "--json: not valid JSON"),
        (("--data-raw", "x"), "needs the body's type: add -H 'Content-Type: …'"),
        (("-H", "Content-Type: application/x-www-form-urlencoded", "--data-raw", "a=b"), "must be signed"),
        (("-d", "a=b", "--json", "{}"), "-d makes a signed form body"),
        (("-F", "a=b", "--json", "{}"), "-F makes a multipart body"),
        (("--json", "{}", "--data-raw", "x"), "not allowed with argument"),
        (("-F", "novalue"), "-F takes NAME=VALUE"),
        (("-F", "f=@/nonexistent/file"), "cannot read /nonexistent/file"),
        (("-H", "Content-Type: text/plain", "-F", "a=b"), "-F makes its own Content-Type"),
    ],
)
def test_body_option_mistakes_are_usage_errors(cli: Cli, args: tuple[str, ...], words: str) -> None:
    """Contradictory or incomplete body options: exit 2, one line, before any profile is read."""
    result = cli("request", *args, "https://api.example.com/x")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert words in result.stderr
