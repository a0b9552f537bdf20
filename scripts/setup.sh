#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine: the npm dependencies (which
# bring an ffmpeg/ffprobe of their own) and, where this user may use apt-get, Debian's
# ffmpeg (for the xfade transitions), Chromium (for the report's browser test),
# redis-server (for the team mode tests) and fonts-noto-cjk (for CJK captions). Tests whose
# tools could not be installed say so and skip; nothing else depends on them.
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund

if [ "${SHOTLIST_SKIP_SYSTEM_DEPS:-}" = "1" ]; then
  echo "setup: SHOTLIST_SKIP_SYSTEM_DEPS=1, not installing system packages"
  exit 0
fi
missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
# A CJK-capable font, so captions and cards in Chinese, Japanese or Korean draw real glyphs.
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: ${missing[*]} not installed and apt-get is not usable here; the tests that need them will skip"
  exit 0
fi
log="${TMPDIR:-/tmp}/shotlist-setup-apt.log"
echo "setup: installing ${missing[*]} from Debian's packages (log: $log)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  echo "setup: could not install ${missing[*]} (see $log); the tests that need them will skip"
fi
