"""HAL paging guards against a server whose `next` link never ends.

The emulator pages correctly, so this is the one place a test double stands in: a tiny werkzeug app on a
free port that serves a token and always answers with the same (or an endless) `next` link.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from wfm_pipelines.talkdesk import RetrySettings, TalkdeskClient, TalkdeskConnection, TalkdeskPagingError


class LoopingServer:
    """`/users` always returns a full page and `next` pointing back at the same page (or the mode's link)."""

    def __init__(self, mode: str):
        self.mode = mode
        self.user_requests = 0
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @Request.application
    def _app(self, request: Request) -> Response:
        if request.path == "/oauth/token":
            return Response('{"access_token": "loop-token", "token_type": "Bearer", "expires_in": 600, "scope": ""}',
                            content_type="application/json")
        self.user_requests += 1
        page = int(request.args.get("page", "1"))
        per_page = 2
        reordered_query = "&".join(reversed(request.query_string.decode().split("&")))
        body_next = {
            "same": request.full_path,                                  # relative, the page just served
            "same_absolute": f"{self.url}/users?{reordered_query}",    # same page, other query order
            "short_page": f"/users?page={page + 1}&per_page=2",         # next always present, page not full
        }[self.mode]
        users = [{"id": f"u{page}-{i}"} for i in range(1 if self.mode == "short_page" else per_page)]
        body = {"count": len(users), "per_page": per_page, "page": page,
                "_embedded": {"users": users}, "_links": {"next": {"href": body_next}}}
        return Response(json.dumps(body), content_type="application/json")

    def __enter__(self) -> "LoopingServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture
def looping_client() -> Iterator[Callable[[str], tuple[LoopingServer, TalkdeskClient]]]:
    opened: list[tuple[LoopingServer, TalkdeskClient]] = []

    def open_client(mode: str) -> tuple[LoopingServer, TalkdeskClient]:
        server = LoopingServer(mode).__enter__()
        client = TalkdeskClient(TalkdeskConnection(server.url, server.url, "id", "secret", ("users:read",)),
                                retry=RetrySettings(2, 0.01, 0.05))
        opened.append((server, client))
        return server, client

    yield open_client
    for server, client in opened:
        client.close()
        server.__exit__()


@pytest.mark.parametrize("mode", ["same", "same_absolute"])
def test_a_next_link_back_to_a_page_already_read_raises_instead_of_looping(looping_client, mode):
    server, client = looping_client(mode)
    with pytest.raises(TalkdeskPagingError, match="already read"):
        client.list_users()
    assert server.user_requests == 1


def test_a_short_page_ends_the_listing_even_when_next_is_present(looping_client):
    server, client = looping_client("short_page")
    users = client.list_users()
    assert [user["id"] for user in users] == ["u1-0"]
    assert server.user_requests == 1
