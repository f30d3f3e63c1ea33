"""`smtpsim serve` as a test suite uses it: send with smtplib, steer and check with the API.

Addresses that choose the reply for one message (such as `rcpt-550-5.1.1@...`) are tested in
test_magic.py; the README's example in test_readme.py.
"""

import email
import email.policy
import smtplib
import time

import pytest

MESSAGE = (
    b"From: Alice <alice@sender.example>\r\n"
    b"To: bob@example.net\r\n"
    b"Subject: Your order 1234\r\n"
    b"Message-ID: <order-1234@sender.example>\r\n"
    b"\r\n"
    b"Thank you.\r\n"
)


def connect(server):
    return smtplib.SMTP("127.0.0.1", server.port, local_hostname="app.example", timeout=30)


def send(server, to=("bob@example.net",), message=MESSAGE):
    with connect(server) as smtp:
        return smtp.sendmail("alice@sender.example", list(to), message)


def test_a_message_is_captured_with_its_envelope_and_headers(server):
    assert send(server) == {}
    [captured] = server.api.messages(to="bob@example.net")
    assert captured["from"] == "alice@sender.example"
    assert captured["to"] == ["bob@example.net"]
    assert captured["helo"] == "app.example"
    assert captured["subject"] == "Your order 1234"
    assert captured["size"] == len(MESSAGE)
    parsed = email.message_from_bytes(server.api.raw(captured["id"]), policy=email.policy.default)
    assert parsed["Message-ID"] == "<order-1234@sender.example>"
    assert parsed["From"].addresses[0].addr_spec == "alice@sender.example"
    assert parsed.get_content().strip() == "Thank you."
    assert server.api.messages(to="nobody@example.net") == []
    status, _, _ = server.api.call("DELETE", "/api/messages")
    assert status == 204
    assert server.api.messages() == []


def test_greylisting_defers_then_a_retry_passes(server):
    server.api.put_behaviour({"greylisting": {"delay": "1s"}})
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(server)
    code, text = refused.value.recipients["bob@example.net"]
    assert (code, text[:5]) == (451, b"4.7.1")
    assert server.api.messages() == []
    time.sleep(1.5)
    assert send(server) == {}
    assert len(server.api.messages()) == 1
    metrics = server.api.call("GET", "/metrics")[1].decode()
    assert 'smtpsim_decisions_total{stage="rcpt",reason="greylisted"} 1' in metrics


def test_a_421_closes_and_the_client_reconnects(server):
    server.api.put_behaviour({"chaos": {"mail": 1}})
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(server)
    assert refused.value.smtp_code == 421
    server.api.put_behaviour({})
    assert send(server) == {}
    sessions = server.api.get("/api/sessions")["sessions"]
    assert [s["messages"] for s in sessions] == [0, 1]


def test_a_message_over_the_size_limit_gets_552(serve):
    server = serve("--max-size", "1000")
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(server, message=MESSAGE + b"x" * 2000 + b"\r\n")
    assert refused.value.smtp_code == 552
    assert send(server) == {}
    assert len(server.api.messages()) == 1


def test_a_dropped_connection_loses_the_message(server):
    server.api.put_behaviour({"chaos": {"data": 1, "drop": True}})
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(server)
    assert server.api.messages() == []
    deadline = time.monotonic() + 30
    while True:
        [session] = server.api.get("/api/sessions")["sessions"]
        if session["closed"] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert session["closed"] == "chaos: hung up without a reply"


def test_the_behaviour_changes_at_runtime_and_bad_input_changes_nothing(server):
    with connect(server) as smtp:
        smtp.ehlo()
        smtp.mail("alice@sender.example")
        assert smtp.rcpt("gone@example.net")[0] == 250
        status, body, _ = server.api.call(
            "PUT", "/api/behaviour", {"unknown": ["gone@example.net"], "latency": "2h"}
        )
        assert status == 400
        assert b'"field":"latency"' in body
        assert server.api.get("/api/behaviour")["unknown"] == []
        server.api.put_behaviour({"unknown": ["gone@example.net"]})
        # The same connection: the next command sees the new behaviour.
        assert smtp.rcpt("gone@example.net")[0] == 550
        assert smtp.rcpt("bob@example.net")[0] == 250
    assert server.api.get("/api/behaviour")["unknown"] == ["gone@example.net"]
