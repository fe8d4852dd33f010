# opvangsync: the two commands are `make demo` and `make test`; both install what they need.

SWIFT ?= swift
# Build: libsqlite3-dev, libcurl4-openssl-dev. Tests: python3-aiosmtpd (a real SMTP server on loopback)
# and openssl (a throwaway certificate for STARTTLS). Operations and benchmarks: the sqlite3 shell.
# The Debian package: dpkg-dev (dpkg-shlibdeps), binutils (strip), lintian; its tests: systemd
# (systemd-analyze), adduser (the package's postinst), prometheus (promtool checks the metrics file).
# The report's web page: chromium prints it to PDF and poppler-utils (pdftotext, pdfinfo) reads the PDF
# back, with fonts-dejavu-core to print with. Bounces: postfix bounces mail for an unknown user into a
# maildir for `mail bounces` (a throwaway instance from a temporary folder; the system's own postfix is
# installed unconfigured and never started), and dovecot-imapd serves a bounce mailbox over IMAP (the same).
PACKAGES = libsqlite3-dev sqlite3 libcurl4-openssl-dev python3-aiosmtpd openssl time \
           dpkg-dev binutils lintian systemd adduser
# promtool is in Debian's prometheus package only (about 96 MB installed); chromium's recommends (printing
# dialogs, notification daemons) and postfix's are not needed either.
LEAN_PACKAGES = prometheus chromium poppler-utils fonts-dejavu-core postfix dovecot-imapd
AS_OF ?= 2026-11-22
# The package's version is the binary's: `opvangsync --version` prints the same line.
VERSION := $(shell sed -n 's/^public let opvangsyncVersion = "\(.*\)"$$/\1/p' Sources/OpvangSync/Support/Version.swift)
# Every release build links the Swift runtime statically, so the binary runs on a server without Swift;
# one configuration for all release products, so the benchmark smoke run and the package share a build.
RELEASE = $(SWIFT) build -c release --static-swift-stdlib

.PHONY: deps build release demo deb test bench bench-smoke samples clean fuzz

deps:
	@scripts/ensure-packages.sh $(PACKAGES)
	@scripts/ensure-packages.sh --no-install-recommends $(LEAN_PACKAGES)
	@command -v $(SWIFT) >/dev/null || { echo "Swift 6 is not on PATH: install the Swift 6 toolchain for Linux (swift.org) first." >&2; exit 1; }

build: deps
	$(SWIFT) build

release: deps
	$(RELEASE) --product opvangsync

# dist/opvangsync_VERSION_ARCH.deb: the binary, the systemd units, an example configuration, docs, man page.
deb: release
	deploy/debian/build-deb.sh .build/release/opvangsync $(VERSION)

# A real import of the sample organisation into ./portal.sqlite with the built-in defaults
# (no configuration file), which delivers its invitations as .eml files into ./outbox/new/.
# Run it twice: the second run is skipped as already imported.
demo: release
	@.build/release/opvangsync import sample-exports/zonnebloem --as-of $(AS_OF) --send-mail; \
	code=$$?; echo "exit code $$code (0 applied or skipped, 4 applied with rejected rows)"; \
	echo "invitations: $$(ls outbox/new 2>/dev/null | wc -l) .eml files in ./outbox/new/"; \
	[ $$code -eq 0 ] || [ $$code -eq 4 ]

# The smoke runs of the benchmark and the fuzzers come first, so that the test runner's summary is the last
# line. The package is built once, from the release build the smoke run made, and tested by installing it.
test: deps
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=20
	$(MAKE) --no-print-directory deb
	$(SWIFT) build --build-tests
	deploy/verify-systemd.sh
	deploy/debian/test-deb.sh dist/opvangsync_$(VERSION)_$$(dpkg --print-architecture).deb $(VERSION)
	$(SWIFT) test --skip-build --disable-xctest

# make bench: the benchmark of bench/run.sh at 100,000 children (SCALE=1000000 for the whole market).
SCALE ?= 100000
bench: deps
	$(RELEASE) --product opvangsync
	$(RELEASE) --product exportgen
	SCALE=$(SCALE) bench/run.sh

# A small run of the generator and the benchmark script, so that neither rots (part of make test).
bench-smoke: deps
	$(RELEASE) --product opvangsync
	$(RELEASE) --product exportgen
	SCALE=300 BENCH_DIR=.build/bench-smoke bench/run.sh

# libFuzzer runs of the CSV reader, the JSON parser and the manifest (fuzz/run.sh), FUZZ_SECONDS each
# (default 20) on one core; a crash stops with exit 1 and leaves its input in .build/fuzz/.
FUZZ_SECONDS ?= 20
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

# Regenerates sample-exports/ (deterministic: the same files every time).
samples: build
	rm -rf sample-exports
	.build/debug/exportgen --children 150 --locations 3 --groups-per-location 4 --out sample-exports/zonnebloem
	.build/debug/exportgen --children 150 --locations 3 --groups-per-location 4 --format json --out sample-exports/zonnebloem-json
	.build/debug/exportgen broken --out sample-exports/broken

clean:
	rm -rf .build dist portal.sqlite portal.sqlite-wal portal.sqlite-shm portal.sqlite.lock portal.sqlite.mail.lock reports outbox

# After editing mappings/*.json: refresh the copies embedded in the binary (a test checks they agree).
embed-mappings:
	python3 scripts/embed-mappings.py
