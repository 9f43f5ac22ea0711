#!/usr/bin/env bash
# report.html as a reader sees it: ccpnet writes the pages (the run report of
# the two-CCP example, and the run and stress reports of the settlement
# squeeze, whose pages have a settlement section, and the multi-dimensional
# reverse stress report of the full mesh), headless Chromium renders
# each with the network blocked, and the test checks that a screenshot was
# drawn, that it is not blank, and that the browser logged no console message
# for the page (an SVG attribute it could not parse, a script error, a
# resource it tried to load).
#
#   report_browser_test.sh CCPNET_EXE SOURCE_DIR [PAGE.html]
#
# With PAGE.html, that page alone is checked instead of fresh reports.
# SCREENSHOT=file.png keeps the screenshot (of each page: file-NAME.png when
# there are several). Exit 77 (skipped) when Chromium is not installed.
set -euo pipefail
exe=$1 src=$2 page=${3:-}

browser=""
for candidate in chromium chromium-browser google-chrome google-chrome-stable; do
  if command -v "$candidate" > /dev/null 2>&1; then
    browser=$candidate
    break
  fi
done
if [ -z "$browser" ]; then
  echo "SKIPPED: chromium not installed"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}

if [ -n "$page" ]; then
  pages=("$page") names=(page)
else
  run() {
    "$exe" "$@" > "$work/ccpnet.log" 2>&1 || { cat "$work/ccpnet.log"; fail "ccpnet $* failed"; }
  }
  run run "$src/scenarios/two_ccp_peer.yaml" -n 4096 --threads 1 --quiet --report --out "$work/run" \
    --set 'defaults.latent={pd: 0.05, beta: 0.6}'
  run run "$src/scenarios/settlement_squeeze.yaml" -n 4096 --threads 1 --quiet --report --out "$work/settlement-run"
  run stress "$src/scenarios/settlement_squeeze.yaml" --report --out "$work/settlement-stress"
  run reverse "$src/scenarios/full_mesh.yaml" --ccp CCP_EU --search --refine 4 --report --out "$work/reverse"
  grep -q 'id="settlement"' "$work/settlement-run/report.html" || fail "no settlement section in the run report"
  grep -q '<h3>Settlement</h3>' "$work/settlement-stress/report.html" ||
    fail "no settlement block in the stress report"
  pages=("$work/run/report.html" "$work/settlement-run/report.html" "$work/settlement-stress/report.html"
         "$work/reverse/report.html")
  names=(run settlement-run settlement-stress reverse)
fi

# check_page PAGE NAME: renders PAGE and checks what the browser drew and logged.
check_page() {
  local page=$1 name=$2 url shot width height status
  echo "== $name: $page"
  [ -s "$page" ] || fail "no report at $page"
  # Self-contained: nothing to load from elsewhere (links within the page and data: URLs only).
  if grep -Eo '(src|href)="[^"]*"' "$page" | grep -Ev '="(#|data:)' > "$work/external.txt"; then
    cat "$work/external.txt"
    fail "the page loads resources from elsewhere"
  fi
  url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"

  shot=$work/report.png
  width=1280 height=2400
  status=0
  rm -f "$shot"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$work/profile" \
    --enable-logging=stderr --v=0 --screenshot="$shot" --window-size="$width,$height" "$url" \
    > "$work/browser.out" 2> "$work/browser.err" || status=$?
  [ "$status" = 0 ] || { tail -20 "$work/browser.err"; fail "$browser exited with status $status"; }
  [ -s "$shot" ] || { tail -20 "$work/browser.err"; fail "no screenshot"; }
  if [ -n "${SCREENSHOT:-}" ]; then
    if [ "${#pages[@]}" = 1 ]; then cp "$shot" "$SCREENSHOT"; else cp "$shot" "${SCREENSHOT%.png}-$name.png"; fi
  fi

  # Console messages of the page (Chromium logs them as INFO:CONSOLE, whatever
  # their level); a self-contained page without scripts must log none.
  if grep -E 'CONSOLE|Uncaught|net::ERR_' "$work/browser.err" > "$work/console.txt"; then
    cat "$work/console.txt"
    fail "the browser logged console messages for the page"
  fi

  # Not blank: the right size, and many distinct rows of pixels. The rows are
  # compared as stored (PNG-filtered), which is enough to tell a drawn page from
  # an empty one without an image library.
  if command -v python3 > /dev/null 2>&1; then
    python3 - "$shot" "$width" "$height" << 'EOF' || fail "the screenshot is blank or not the expected size"
import struct, sys, zlib
path, width, height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
w, h, depth, colour = header[:4]
print(f"screenshot {w}x{h}, {len(data)} bytes")
assert (w, h) == (width, height), f"size {w}x{h}, expected {width}x{height}"
channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour, 1)
stride = 1 + w * channels * depth // 8
raw = zlib.decompress(idat)
rows = {raw[i * stride:(i + 1) * stride] for i in range(h)}
nonzero = sum(1 for b in raw if b) / len(raw)
print(f"{len(rows)} distinct rows, {100 * nonzero:.1f}% non-zero bytes")
assert len(rows) > h // 10 and nonzero > 0.005, "blank"
EOF
  else
    [ "$(wc -c < "$shot")" -gt 30000 ] || fail "the screenshot is blank (too small to hold a drawn page)"
  fi

  # Printed (as `chromium --print-to-pdf` for a committee): the page's print
  # style sheet applies (A4 landscape, 841.92 x 594.96 pt, where tables are not
  # clipped by their scroll boxes and figures and table rows do not split), and
  # the PDF has pages.
  local pdf=$work/report.pdf pages_printed
  rm -f "$pdf"
  status=0
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$work/profile" \
    --no-pdf-header-footer --print-to-pdf="$pdf" "$url" > "$work/print.out" 2> "$work/print.err" || status=$?
  [ "$status" = 0 ] && [ -s "$pdf" ] || { tail -20 "$work/print.err"; fail "printing to PDF failed"; }
  [ "$(head -c 5 "$pdf")" = "%PDF-" ] || fail "the printed file is not a PDF"
  pages_printed=$(grep -a -o '/MediaBox \[0 0 841\.9[0-9]* 594\.9[0-9]*\]' "$pdf" | wc -l)
  echo "printed: $pages_printed A4 landscape pages"
  [ "$pages_printed" -ge 1 ] || fail "the printed PDF has no A4 landscape page: the print style sheet did not apply"
}

for i in "${!pages[@]}"; do
  check_page "${pages[$i]}" "${names[$i]}"
done
echo "${#pages[@]} passed, 0 failed"
