#!/usr/bin/python3
"""A real SMTP server on loopback for opvangsync's end-to-end tests (Debian's python3-aiosmtpd).

Stores every accepted message in a maildir, with an X-Test-TLS header saying whether the session was
encrypted. With --starttls CERT KEY, offers and requires STARTTLS; with --tls CERT KEY, speaks TLS from
the first byte (smtps). Modes that refuse one step with a 5xx reply:

  --reject              every recipient (550: a bounce)
  --reject-rcpt ADDR    only this recipient (repeatable)
  --reject-sender       the sender: MAIL FROM gets 553
  --reject-login        offers AUTH PLAIN/LOGIN and refuses every login with 535
  --reject-message      accepts the recipients, then refuses the message after DATA with 554

With --stall-sender it greets and answers EHLO, then never answers MAIL FROM.

With --silent it accepts TCP connections and never says a word (no greeting, no replies).

Every mode writes the number of client connections so far to MAILDIR/connections. Prints "READY <port>"
once it accepts connections, and stops when its standard input closes.
"""
import argparse
import asyncio
import mailbox
import os
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult


class ConnectionCounter:
    """Counts TCP connections by their client address; STARTTLS keeps the connection it upgrades."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "connections")
        self.peers = set()
        self.lock = threading.Lock()
        self.counting = False
        self.write()

    def add(self, peer):
        with self.lock:
            if not self.counting or peer in self.peers:
                return
            self.peers.add(peer)
            self.write()

    def write(self):
        staging = self.path + ".tmp"
        with open(staging, "w") as handle:
            handle.write("%d\n" % len(self.peers))
        os.replace(staging, self.path)


class CountingSMTP(SMTP):
    counter = None

    def connection_made(self, transport):
        super().connection_made(transport)
        if self.counter is not None:
            self.counter.add(transport.get_extra_info("peername"))


class CountingController(Controller):
    def __init__(self, handler, counter, **kwargs):
        self.counter = counter
        super().__init__(handler, **kwargs)

    def factory(self):
        server = CountingSMTP(self.handler, **self.SMTP_kwargs)
        server.counter = self.counter
        return server


class Store:
    def __init__(self, box, args):
        self.box = box
        self.args = args
        self.refused = {address.lower() for address in (args.reject_rcpt or [])}
        self.received = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.stall_sender:
            await asyncio.sleep(3600)
        if self.args.reject_sender:
            return "553 5.7.1 Sender address rejected: not owned by the authenticated user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject or address.lower() in self.refused:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.reject_message:
            return "554 5.7.1 Message rejected: content policy violation"
        # session.ssl is set by STARTTLS; with implicit TLS only the transport knows.
        encrypted = session.ssl or server.transport.get_extra_info("ssl_object") is not None
        tls = b"yes" if encrypted else b"no"
        self.received += 1
        self.box.add(b"X-Test-Seq: %d\r\nX-Test-TLS: " % self.received + tls + b"\r\nX-Test-Rcpt: "
                     + ",".join(envelope.rcpt_tos).encode() + b"\r\n" + envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def refuse_every_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=False, handled=False)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_silently(counter):
    """Accepts connections and keeps them open without a greeting, until stdin closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []

    def accept():
        while True:
            try:
                connection, peer = listener.accept()
            except OSError:
                return
            held.append(connection)
            counter.add(peer)

    counter.counting = True
    threading.Thread(target=accept, daemon=True).start()
    print("READY %d" % listener.getsockname()[1], flush=True)
    sys.stdin.read()
    listener.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--reject-rcpt", action="append")
    parser.add_argument("--reject-sender", action="store_true")
    parser.add_argument("--reject-login", action="store_true")
    parser.add_argument("--reject-message", action="store_true")
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--stall-sender", action="store_true")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()

    box = mailbox.Maildir(args.maildir, create=True)
    counter = ConnectionCounter(args.maildir)
    if args.silent:
        serve_silently(counter)
        return

    port = free_port()
    kwargs = {"hostname": "127.0.0.1", "port": port}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.starttls)
        kwargs.update(tls_context=context, require_starttls=True)
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.tls)
        kwargs.update(ssl_context=context)
    if args.reject_login:
        kwargs.update(authenticator=refuse_every_login, auth_require_tls=False)
    controller = CountingController(Store(box, args), counter, **kwargs)
    controller.start()
    # The controller's own start-up probe is over: count clients from here on.
    counter.counting = True
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
