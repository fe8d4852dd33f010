#!/usr/bin/python3
"""A real SMTP server on loopback for opvangsync's end-to-end tests (Debian's python3-aiosmtpd).

Stores every accepted message in a maildir, with an X-Test-TLS header saying whether the session was
encrypted. With --reject, refuses recipients with 550 (a bounce). With --starttls CERT KEY, offers and
requires STARTTLS; with --tls CERT KEY, speaks TLS from the first byte (smtps). Prints "READY <port>" once
it accepts connections, and stops when its standard input closes.
"""
import argparse
import mailbox
import socket
import ssl
import sys

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, maildir, reject):
        self.box = mailbox.Maildir(maildir, create=True)
        self.reject = reject
        self.received = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        # session.ssl is set by STARTTLS; with implicit TLS only the transport knows.
        encrypted = session.ssl or server.transport.get_extra_info("ssl_object") is not None
        tls = b"yes" if encrypted else b"no"
        self.received += 1
        self.box.add(b"X-Test-Seq: %d\r\nX-Test-TLS: " % self.received + tls + b"\r\nX-Test-Rcpt: "
                     + ",".join(envelope.rcpt_tos).encode() + b"\r\n" + envelope.original_content)
        return "250 2.0.0 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--reject", action="store_true")
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()

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
    controller = Controller(Store(args.maildir, args.reject), **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
