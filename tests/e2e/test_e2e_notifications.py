"""Issue 18's journey: notifications on the running system (the five services
as real processes on the real RabbitMQ and PostgreSQL, and the SMTP server
the system starts, keeping each message as a file).

A published referral reaches every invited provider's mailbox exactly once:
on a quiet day, when the notifications consumer is killed (kill -9) in the
middle of a batch of referral.published events and started again, and when
the mail relay is killed in the middle of sending a message.  No message
anywhere says who the child is: name, date of birth, UPN or postcode, each
given a distinctive value, are searched for in every message file."""

from __future__ import annotations

import os
import random
import signal
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from demo import journey as j
from tests.support.runtime import wait_until

pytestmark = pytest.mark.integration

PROVIDERS = ("Larkspur Learning", "Meadowbank Tutors", "Wrenfield Alternative")
BATCH = 10  # referrals published while the consumer is held, then handled as one batch


# --------------------------------------------------------------------------- the children and their messages


@dataclass(frozen=True)
class Referred:
    referral: j.Referral
    child: dict


_GIVEN = ("Zephyrine", "Octavian", "Marigold", "Peregrine", "Isolde", "Thaddeus", "Clementine", "Barnaby")
_FAMILY = ("Quillfeather", "Wimbourne-Strachan", "Fairweather-Ogunleye", "Blackthorne", "Abernethy-Lusk")


def distinctive_child(n: int) -> dict:
    """Details no message could contain by chance."""
    born = j.council_today().replace(day=1) - timedelta(days=14 * 365 + 17 * n)
    postcode = f"ZE{n % 10}{random.randint(1, 9)} {random.randint(1, 9)}QX"
    return {"name": f"{_GIVEN[n % len(_GIVEN)]} {_FAMILY[n % len(_FAMILY)]}",
            "date_of_birth": born.isoformat(),
            "upn": "Y" + "".join(random.choice("0123456789") for _ in range(12)),
            "address": f"{n + 3} Sorrel Mews, Little Hadham {postcode}"}


def refer(client, referred: list[Referred]) -> Referred:
    """A referral on lot 1, offers due in three days (no reminder falls due while the tests run)."""
    child = distinctive_child(len(referred))
    referral = j.refer_child(client, lot=1, child=child, deadline=j.now_utc() + timedelta(days=3))
    referred.append(Referred(referral, child))
    return referred[-1]


def body(message: EmailMessage) -> str:
    return message.get_content()


def new_referral_messages(mail, referral: j.Referral) -> list[EmailMessage]:
    link = f"/provider/referrals/{referral.id}"
    return [m for m in mail.messages() if m["Subject"].startswith("New referral") and link in body(m)]


def per_provider(messages: list[EmailMessage], providers: dict[str, j.Provider]) -> Counter:
    """How many messages each provider got (by the address it keeps in the registry)."""
    return Counter(providers[m["To"]].name for m in messages)


def wait_for_every_invited(mail, referrals: list[j.Referral], providers: dict, timeout: float = 60) -> None:
    wait_until(lambda: all(len(per_provider(new_referral_messages(mail, r), providers)) == len(r.invited)
                           for r in referrals), timeout=timeout, interval=0.3,
               message="every invited provider's message in the mailbox")


def wait_until_quiet(running_system) -> None:
    """Nothing left for the mail relay to send."""
    engine = sa.create_engine(running_system["notifications"].database_url)
    try:
        def quiet() -> bool:
            with engine.connect() as connection:
                return connection.scalar(sa.text("select count(*) from deliveries where status = 'pending'")) == 0
        wait_until(quiet, timeout=30, interval=0.3, message="no delivery pending")
    finally:
        engine.dispose()


def assert_each_invited_provider_told_once(mail, referral: j.Referral, providers: dict, *,
                                           sent_again: int = 0) -> None:
    """One message per invited provider; each sent once, but for `sent_again` of them, sent a second time
    (by a relay that was killed before it learnt of the first) as the same message (the same Message-ID)."""
    messages = new_referral_messages(mail, referral)
    told = per_provider(messages, providers)
    invited = {p.name for p in providers.values() if str(p.id) in referral.invited}
    assert invited == set(PROVIDERS)
    assert told == Counter({name: 1 for name in invited}), referral.id
    assert sorted(mail.sent[m["Message-ID"]] for m in messages) == [1] * (len(messages) - sent_again) + \
        [2] * sent_again


# --------------------------------------------------------------------------- the system and its providers


@pytest.fixture(scope="module")
def mail(running_system):
    return running_system.mail


@pytest.fixture(scope="module")
def providers(client, running_system) -> dict[str, j.Provider]:
    """Three providers admitted to lot 1, each keeping one notification address of its own (changed by the
    provider in the registry), which the notifications service has heard of: by address."""
    by_address = {}
    for name in PROVIDERS:
        provider = j.admit_provider(client, name, (1,))
        address = f"referrals@{name.split()[0].lower()}-{str(provider.id)[:6]}.example"
        client.call("PUT", "provider_registry", f"/v1/providers/{provider.id}/notification-addresses",
                    provider.actor, body={"notification_addresses": [address]})
        by_address[address] = provider
    engine = sa.create_engine(running_system["notifications"].database_url)
    try:
        def known() -> bool:
            with engine.connect() as connection:
                kept = [a for row in connection.execute(sa.text("select addresses from providers"))
                        for a in row.addresses]
            return set(by_address) <= set(kept)
        wait_until(known, timeout=30, interval=0.2, message="notifications knows every provider's address")
    finally:
        engine.dispose()
    return by_address


@pytest.fixture(scope="module")
def referred() -> list[Referred]:
    """Every referral the module makes, with its child's details."""
    return []


# --------------------------------------------------------------------------- the three journeys


@pytest.fixture(scope="module")
def quiet_day(client, mail, providers, referred, running_system) -> Referred:
    one = refer(client, referred)
    wait_for_every_invited(mail, [one.referral], providers)
    wait_until_quiet(running_system)
    return one


def _pause(process, sig: int) -> None:
    os.killpg(process.pid, sig)


@pytest.fixture(scope="module")
def consumer_killed_mid_batch(client, tap, mail, providers, referred, running_system) -> list[Referred]:
    """The consumer is held (SIGSTOP) while BATCH referrals are published, so it takes them as one batch;
    the deliveries table is locked, so the batch stops mid-way, inside its transaction (the consumer
    waits on the lock to insert the batch's deliveries, seen in pg_stat_activity); then kill -9, unlock,
    start it again, drain."""
    notifications = running_system["notifications"]
    engine = sa.create_engine(notifications.database_url)
    lock = engine.connect()
    try:
        _pause(notifications.processes["consumer"], signal.SIGSTOP)
        batch = [refer(client, referred) for _ in range(BATCH)]
        ids = {r.referral.id for r in batch}
        tap.wait_for(lambda e: e["type"] == "referral.published" and e["data"]["referral_id"] in ids,
                     count=BATCH, timeout=30)
        lock.execute(sa.text("lock table deliveries in exclusive mode"))
        _pause(notifications.processes["consumer"], signal.SIGCONT)

        def consumer_waits_on_the_lock() -> bool:
            with engine.connect() as connection:
                return connection.scalar(sa.text(
                    "select count(*) from pg_stat_activity where datname = current_database() "
                    "and wait_event_type = 'Lock' and query ilike 'insert into deliveries%'")) > 0
        wait_until(consumer_waits_on_the_lock, timeout=30, interval=0.1, message="the consumer mid-batch")
        notifications.signal("consumer", signal.SIGKILL)
        lock.rollback()
    finally:
        lock.close()
        engine.dispose()
    notifications.start("consumer")
    wait_for_every_invited(mail, [r.referral for r in batch], providers, timeout=90)
    wait_until_quiet(running_system)
    return batch


@pytest.fixture(scope="module")
def relay_killed_mid_send(client, mail, providers, referred, running_system) -> dict[str, Referred]:
    """The mail server holds the first message of a referral unanswered; the mail relay is killed (-9)
    waiting for the answer; the server then drops the message (as one that failed before keeping it
    would: `dropped`) or keeps it (the relay never learnt it was delivered: `kept`), and the relay is
    started again."""
    notifications = running_system["notifications"]
    outcomes = {}
    for outcome in ("dropped", "kept"):
        release = mail.hold_next(keep=outcome == "kept")
        one = refer(client, referred)
        mail.wait_holding()
        notifications.signal("relay", signal.SIGKILL)
        release.set()
        notifications.start("relay")
        wait_for_every_invited(mail, [one.referral], providers)
        wait_until_quiet(running_system)
        outcomes[outcome] = one
    return outcomes


# --------------------------------------------------------------------------- what they show


def test_a_published_referral_reaches_every_invited_provider_once(quiet_day, mail, providers):
    assert_each_invited_provider_told_once(mail, quiet_day.referral, providers)
    [message, *_] = new_referral_messages(mail, quiet_day.referral)
    assert "lot 1" in message["Subject"] and "Make an offer or decline by" in body(message)


def test_the_consumer_killed_mid_batch_and_restarted_tells_each_provider_once(consumer_killed_mid_batch, mail,
                                                                              providers):
    for one in consumer_killed_mid_batch:
        assert_each_invited_provider_told_once(mail, one.referral, providers)


def test_the_mail_relay_killed_mid_send_loses_no_message_and_sends_again_the_same(relay_killed_mid_send, mail,
                                                                                    providers, client, referred):
    assert_each_invited_provider_told_once(mail, relay_killed_mid_send["dropped"].referral, providers)
    assert_each_invited_provider_told_once(mail, relay_killed_mid_send["kept"].referral, providers, sent_again=1)
    log = [row for row in client.call_all("notifications", "/v1/deliveries", j.MANAGER)
           if row["event_type"] == "referral.published"]
    assert Counter(row["status"] for row in log) == Counter(sent=len(PROVIDERS) * len(referred)), \
        "one delivery per invited provider and referral, each sent"


def _forms_of(born: date) -> list[str]:
    return [born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%d.%m.%Y"), f"{born.day} {born:%B %Y}",
            f"{born:%B} {born.day}, {born.year}", born.strftime("%d %b %Y")]


def test_no_message_says_who_the_child_is(quiet_day, consumer_killed_mid_batch, relay_killed_mid_send, mail,
                                          referred):
    """Every message file, as stored and as read (headers and the decoded body)."""
    files = sorted(mail.folder.glob("*.eml"))
    assert len(files) >= len(PROVIDERS) * (BATCH + 3)
    texts = [(path.name, path.read_bytes().decode("utf-8", errors="replace")) for path in files]
    texts += [(path.name, f"{message}\n{body(message)}") for path, message in zip(files, mail.messages(), strict=True)]
    for one in referred:
        child = one.child
        postcode = child["address"].split()[-2:]
        needles = [child["name"], *child["name"].split(), child["upn"], " ".join(postcode), "".join(postcode),
                   *_forms_of(date.fromisoformat(child["date_of_birth"]))]
        for name, text in texts:
            found = [n for n in needles if n.casefold() in text.casefold()]
            assert not found, f"{name} contains the child's {found}"
