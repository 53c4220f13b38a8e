#!/usr/bin/env bash
# Installs and starts what the tests need on a fresh machine of the project's
# kind (Debian with Go, MariaDB installed). Safe to run again.
set -euo pipefail

need_apt=()
command -v protoc >/dev/null || need_apt+=(protobuf-compiler)
# The web shell's end-to-end tests drive Debian's Chromium; Chinese text
# needs a CJK font to render (screenshots of failures are read by people).
command -v chromium >/dev/null || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
# Official documents are set in TrueType CJK fonts (docs/documents.md), and
# their tests read the PDFs back with poppler (pdftotext, pdftoppm).
[ -f /usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf ] || need_apt+=(fonts-arphic-gbsn00lp)
[ -f /usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf ] || need_apt+=(fonts-arphic-gkai00mp)
[ -f /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf ] || need_apt+=(fonts-droid-fallback)
command -v pdftotext >/dev/null || need_apt+=(poppler-utils)
command -v npm >/dev/null || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# MariaDB on 127.0.0.1:3306 for the MySQL suite.
if ! mysqladmin --host=127.0.0.1 --user=root --connect-timeout=2 ping >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do
    mysqladmin --host=127.0.0.1 --user=root --connect-timeout=2 ping >/dev/null 2>&1 && break
    sleep 1
  done
fi
mysqladmin --host=127.0.0.1 --user=root ping

# NATS with JetStream on 127.0.0.1:4222 for the event bus's JetStream tests
# (they skip, saying so, when it cannot be reached).
if command -v nats-server >/dev/null && ! (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null; then
  echo "starting NATS"
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec "$(command -v nats-server)" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  for _ in $(seq 1 20); do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.5; done
fi
