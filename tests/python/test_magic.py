"""Magic addresses (`serve --magic`): the test picks the reply for one message by its address,
and checks through the API what was decided and what was kept."""

import smtplib
import time

import pytest

from test_serve import MESSAGE, connect


@pytest.fixture
def magic(serve):
    return serve("--magic")


def send(server, sender="alice@sender.example", to=("bob@example.net",)):
    with connect(server) as smtp:
        return smtp.sendmail(sender, list(to), MESSAGE)


def reasons(server):
    return [d["reason"] for m in server.api.messages() for d in m["decisions"]]


def test_a_greylisted_recipient_passes_on_a_late_enough_retry(magic):
    to = ("greylist-1s@example.net",)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(magic, to=to)
    code, text = refused.value.recipients[to[0]]
    assert (code, text[:5]) == (451, b"4.7.1")
    time.sleep(1.5)
    assert send(magic, to=to) == {}
    [message] = magic.api.messages(to="greylist-1s@")
    assert message["to"] == list(to)


def test_a_421_at_mail_closes_and_the_client_reconnects(magic):
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(magic, sender="mail-421@sender.example")
    assert refused.value.smtp_code == 421
    assert send(magic) == {}
    sessions = magic.api.get("/api/sessions")["sessions"]
    assert [s["messages"] for s in sessions] == [0, 1]
    first = magic.api.get(f"/api/sessions/{sessions[0]['id']}")["transcript"]
    assert any(l["who"] == "decision" and "magic address" in l["text"] for l in first)


def test_a_552_after_the_content_keeps_nothing(magic):
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(magic, to=("data-552-5.3.4@example.net",))
    assert refused.value.smtp_code == 552
    assert refused.value.smtp_error.startswith(b"5.3.4")
    assert magic.api.messages() == []


def test_a_connection_dropped_during_data_loses_the_message(magic):
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(magic, to=("drop-data@example.net",))
    assert magic.api.messages() == []
    assert send(magic) == {}
    assert len(magic.api.messages()) == 1


def test_a_malformed_magic_address_gets_501_saying_what_is_wrong(magic):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(magic, to=("greylist-2h@example.net",))
    code, text = refused.value.recipients["greylist-2h@example.net"]
    assert code == 501
    assert b"between" in text and b"1h" in text


def test_a_rule_put_at_runtime_answers_and_is_named(magic):
    rules = (
        '[[rule]]\nname = "no-carol"\nstage = "rcpt"\non = "address"\n'
        'pattern = "^carol@"\ncode = 550\nenhanced = "5.7.1"\n'
    )
    status, body, _ = magic.api.call("PUT", "/api/behaviour", {"rules": rules + "code = 1\n"})
    assert status == 400 and b'"field"' in body
    magic.api.put_behaviour({"rules": rules})
    refused = send(magic, to=("carol@example.net", "bob@example.net"))
    assert refused["carol@example.net"][0] == 550
    [message] = magic.api.messages()
    rule_decisions = [d for d in message["decisions"] if d["reason"] == "rule"]
    assert [d["rule"] for d in rule_decisions] == ["no-carol"]
