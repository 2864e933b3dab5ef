#!/usr/bin/env bash
# Renders a `mixpe report` HTML page to a PNG screenshot with headless Chromium, to look at a report
# without a browser (e.g. on a build machine). Optional and not part of CI: it needs the Debian
# package `chromium` (apt-get install chromium), which scripts/install-deps.sh does not install.
# Usage: scripts/render-report.sh REPORT.html OUT.png [WIDTH [HEIGHT]]   (default 1100 x the page's height, at most 20000)
set -euo pipefail
if [[ $# -lt 2 || $# -gt 4 ]]; then
  echo "usage: $0 REPORT.html OUT.png [WIDTH [HEIGHT]]" >&2
  exit 2
fi
report=$1 out=$2 width=${3:-1100} height=${4:-}
if [[ ! -f $report ]]; then
  echo "$0: $report: no such file" >&2
  exit 2
fi
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null; then browser=$b; break; fi
done
if [[ -z $browser ]]; then
  echo "$0: no chromium found (apt-get install chromium); this script is optional" >&2
  exit 2
fi
if [[ -z $height ]]; then
  # The page is a column of fixed-size charts; estimate its height from the SVGs' heights
  # (plus text and tables) so the screenshot holds the whole page.
  height=$(python3 - "$report" <<'EOF'
import re, sys
page = open(sys.argv[1], encoding="utf-8").read()
svg = sum(float(h) + 130 for h in re.findall(r'<svg [^>]*?height="([0-9.]+)"', page))
rows = page.count("<tr>")
print(min(20000, int(svg + rows * 36 + page.count("<section") * 150 + 500)))
EOF
)
fi
report_abs=$(cd "$(dirname "$report")" && pwd)/$(basename "$report")
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# --no-sandbox: Chromium's sandbox cannot start as root or in most containers.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size="$width,$height" --screenshot="$out_abs" "file://$report_abs" 2>/dev/null
echo "$out ($width x $height)"
