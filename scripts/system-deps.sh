#!/usr/bin/env bash
# Debian packages warmfund needs: a CJK font for PNG posters (`system-deps.sh posters`, as
# ./run.sh asks), and for the tests Chromium too (no argument, as ./test.sh asks).
set -euo pipefail
need=()
if [ "${1:-}" != posters ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
fi
command -v fc-match >/dev/null 2>&1 || need+=(fontconfig)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
