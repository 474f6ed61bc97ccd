#!/usr/bin/env bash
# Opens runs' HTML reports in headless Chromium, as a reader would:
#   html-check.sh <run dir>...
#       each directory's report.html
#   html-check.sh --newest <captures> [<scenario> [<variant>]]
#       the newest run of each variant (of every scenario, or of the one named) under <captures>
#   html-check.sh
#       --newest with the repository's captures/
# For each report: the page loads, its DOM has the ladder (an <svg> with one arrow per packet of
# report.json) and the expectations table, the diagram is drawn at its own size (not scaled down
# to unreadable), and a 1280x2000 screenshot has text on it in more than one colour (with
# SOCKLAB_KEEP_SCREENSHOT=1 it is left as report.png next to report.html, to look at).
set -euo pipefail

fail() { echo "FAIL: $*" >&2; exit 1; }

command -v chromium > /dev/null ||
  fail "chromium is not installed: apt-get install -y --no-install-recommends chromium"
# Debian's python3 with Pillow (python3-pil), whatever python3 comes first on PATH.
py=/usr/bin/python3
"$py" -c "import PIL" 2> /dev/null ||
  fail "Debian's python3 with Pillow is needed to read the screenshot: apt-get install -y python3-pil"

here=$(cd "$(dirname "$0")" && pwd)

# The newest run directory of each variant under $1 (optionally of scenario $2, variant $3). Run
# directories are named <variant>-<UTC time>-<pid>, so the newest is the latest modified.
newest_runs() {
  local captures=$1 scenario=${2:-} variant=${3:-}
  [ -d "$captures" ] || fail "no captures directory $captures (run socklab run first)"
  "$py" - "$captures" "$scenario" "$variant" <<'EOF'
import json, os, sys
captures, only_scenario, only_variant = sys.argv[1:4]
newest = {}
for scenario in sorted(os.listdir(captures)):
    if only_scenario and scenario != only_scenario:
        continue
    folder = os.path.join(captures, scenario)
    if not os.path.isdir(folder):
        continue
    for run in os.listdir(folder):
        report = os.path.join(folder, run, "report.json")
        if not os.path.isfile(report):
            continue
        try:
            variant = json.load(open(report)).get("variant", "")
        except (ValueError, OSError):
            continue
        if only_variant and variant != only_variant:
            continue
        key = (scenario, variant)
        when = os.path.getmtime(report)
        if key not in newest or when > newest[key][0]:
            newest[key] = (when, os.path.join(folder, run))
for key in sorted(newest):
    print(newest[key][1])
EOF
}

# What the screenshot shows: how many sampled pixels are not background, and how many colours
# there are. Pillow decodes the PNG (decoding it in pure Python took 16 s a page).
png_ink() {
  "$py" - "$1" <<'EOF'
import sys
from PIL import Image
image = Image.open(sys.argv[1]).convert("RGB")
width, height = image.size
ink, colours = 0, set()
pixels = image.load()
for y in range(0, height, 4):  # every 4th row is plenty
    for x in range(width):
        r, g, b = pixels[x, y]
        colours.add((r >> 4, g >> 4, b >> 4))
        if r + g + b < 600:
            ink += 1
print(width, height, ink, len(colours))
EOF
}

check_run() {
  local dir=$1
  dir=$(cd "$dir" && pwd)
  local html=$dir/report.html
  [ -f "$dir/report.json" ] || fail "$dir has no report.json: not a run directory"
  [ -f "$html" ] || fail "$dir has no report.html (socklab show $dir writes it)"
  local profile
  profile=$(mktemp -d)
  local png=$profile/report.png
  local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
               --disable-component-update --disable-sync --user-data-dir="$profile" --hide-scrollbars)
  local dom
  dom=$(timeout 120 chromium "${flags[@]}" --dump-dom "file://$html" 2> "$profile/dom.log") ||
    { cat "$profile/dom.log" >&2; rm -rf "$profile"; fail "chromium could not load $html"; }
  timeout 120 chromium "${flags[@]}" --screenshot="$png" --window-size=1280,2000 "file://$html" \
    > "$profile/shot.log" 2>&1 || { cat "$profile/shot.log" >&2; rm -rf "$profile"; fail "chromium could not screenshot $html"; }

  local problem
  problem=$(DOM="$dom" "$py" - "$dir/report.json" <<'EOF'
import json, os, re, sys
dom, report = os.environ["DOM"], json.load(open(sys.argv[1]))
def problem(text):
    print(text)
    sys.exit(0)
if "<svg" not in dom or 'id="ladder"' not in dom:
    problem("the page has no ladder diagram (<svg id=\"ladder\">)")
if '<table id="expectations">' not in dom:
    problem("the page has no expectations table")
svg = dom[dom.index("<svg"):dom.index("</svg>")]
arrows = svg.count('<g class="packet')
packets, entries = len(report.get("packets", [])), len(report.get("timeline", []))
if entries <= 400 and arrows != packets:
    problem("the diagram has %d packet arrows, report.json %d packets" % (arrows, packets))
width = int(re.search(r'<svg[^>]* width="(\d+)"', dom).group(1))
if width > 1240:
    problem("the diagram is %d px wide: a 1280 px window would scale its text down" % width)
rows = dom.count('<span class="badge ')
if rows != len(report.get("expectations", [])):
    problem("the expectations table has %d verdicts, report.json %d expectations" % (rows, len(report["expectations"])))
EOF
)
  if [ -n "$problem" ]; then rm -rf "$profile"; fail "$html: $problem"; fi

  [ -s "$png" ] || { rm -rf "$profile"; fail "chromium wrote no screenshot of $html"; }
  local width height ink colours
  read -r width height ink colours < <(png_ink "$png")
  # A page that failed to draw is blank or one colour; a legible one has text (dark pixels, well
  # over 0.5% of those sampled) in several colours (verdicts, arrows, states).
  [ "$width" -eq 1280 ] && [ "$height" -eq 2000 ] || { rm -rf "$profile"; fail "screenshot of $html is ${width}x$height"; }
  [ "$ink" -gt 3200 ] || { rm -rf "$profile"; fail "the screenshot of $html is nearly blank ($ink dark pixels sampled)"; }
  [ "$colours" -gt 8 ] || { rm -rf "$profile"; fail "the screenshot of $html has only $colours colours"; }
  if [ "${SOCKLAB_KEEP_SCREENSHOT:-0}" = 1 ]; then cp "$png" "$dir/report.png"; fi
  rm -rf "$profile"
  echo "ok: $html loads in Chromium with its diagram ($(grep -o '<g class="packet' <<< "$dom" | wc -l) packet arrows) and expectations; screenshot ${width}x$height, $ink dark pixels sampled, $colours colours"
}

runs=()
if [ $# -eq 0 ]; then
  mapfile -t runs < <(newest_runs "$here/../captures")
elif [ "$1" = --newest ]; then
  shift
  [ $# -ge 1 ] || fail "--newest needs the captures directory"
  mapfile -t runs < <(newest_runs "$@")
else
  runs=("$@")
fi
[ ${#runs[@]} -gt 0 ] || fail "no runs to check (run socklab run first)"
for run in "${runs[@]}"; do check_run "$run"; done
