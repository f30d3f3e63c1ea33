"""Fixtures that run `smtpsim serve` the way a user's test suite would.

The binary is $SMTPSIM_BIN, else $CARGO_TARGET_DIR/debug/smtpsim, else target/debug/smtpsim
(relative to the repository root). Each test gets its own server on free loopback ports, with
the HTTP API on, and stops it afterwards.
"""

import json
import os
import pathlib
import re
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def binary():
    if os.environ.get("SMTPSIM_BIN"):
        return os.environ["SMTPSIM_BIN"]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return str(target / "debug" / "smtpsim")


class Api:
    """The HTTP API of one server."""

    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None):
        """(status, body bytes, content type); a 4xx is returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.read(), answer.headers.get("Content-Type")
        except urllib.error.HTTPError as e:
            return e.code, e.read(), e.headers.get("Content-Type")

    def get(self, path):
        status, body, _ = self.call("GET", path)
        assert status == 200, (path, status, body)
        return json.loads(body)

    def put_behaviour(self, behaviour):
        status, body, _ = self.call("PUT", "/api/behaviour", behaviour)
        assert status == 200, (status, body)
        return json.loads(body)

    def messages(self, to=None):
        query = "" if to is None else "?to=" + urllib.request.quote(to)
        return self.get("/api/messages" + query)["messages"]

    def raw(self, message_id):
        status, body, kind = self.call("GET", f"/api/messages/{message_id}")
        assert status == 200 and kind == "message/rfc822", (status, kind)
        return body


class Server:
    """A running `smtpsim serve`: its SMTP port and its API."""

    def __init__(self, args):
        command = [binary(), "serve", "--listen", "127.0.0.1:0", "--http", "0", "--no-tls"]
        self.process = subprocess.Popen(
            command + list(args), stdout=subprocess.PIPE, text=True
        )
        self.port = self.api = None
        for line in self.process.stdout:
            found = re.search(r"listening on [^ ]*:(\d+)", line)
            if found:
                self.port = int(found.group(1))
            found = re.search(r"(http://[^/ ]+)/", line)
            if found:
                self.api = Api(found.group(1))
            if self.port and self.api:
                break
        assert self.port and self.api, "smtpsim serve did not start"
        # Keep reading what it prints, so that it never waits for the pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self):
        self.process.terminate()
        return self.process.wait(timeout=30)


@pytest.fixture
def serve():
    """Starts servers with extra `serve` flags: `serve("--max-size", "1000")`."""
    servers = []

    def start(*args):
        server = Server(args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        assert server.stop() == 0


@pytest.fixture
def server(serve):
    """A server that accepts everything until told otherwise through its API."""
    return serve()
