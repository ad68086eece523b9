#!/usr/bin/env bash
# System packages popreg needs beyond PyPI: Chromium for the browser tests (Playwright
# drives it through its executable path, since Playwright's own browser download is
# not reachable everywhere), pdftotext to read the portal's PDF reports in tests, and
# the DejaVu fonts the reports embed (Vietnamese diacritics). Installs only what is
# missing, with apt-get, as root; otherwise says what to install and goes on.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "popreg: missing system packages ${missing[*]}: install them (e.g. sudo apt-get install ${missing[*]}); the browser and report tests need them" >&2
fi
