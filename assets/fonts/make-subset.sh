#!/usr/bin/env bash
# make-subset.sh — build the bundled Chinese UI fonts of jiaohao.
#
# What it makes (next to this script):
#   NotoSansSC-Regular-subset.ttf   Noto Sans CJK SC Regular, subset
#   NotoSansSC-Bold-subset.ttf      Noto Sans CJK SC Bold, subset
#   OFL.txt                         the font's copyright line and the full SIL
#                                   Open Font License 1.1, copied from Debian's
#                                   /usr/share/doc/fonts-noto-cjk/copyright
# The two fonts are plain OpenType (sfnt) with CFF outlines, as in the source,
# and the .ttf name egui/epaint expects; NOT woff/woff2 (egui cannot read woff2).
#
# Source: Debian's fonts-noto-cjk (`apt-get install fonts-noto-cjk`), i.e.
#   /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc and NotoSansCJK-Bold.ttc.
# A .ttc holds several faces. Face index 2 is Simplified Chinese (SC). This was
# verified by reading each face's family name (name ID 1) with fontTools:
#   0 JP, 1 KR, 2 SC, 3 TC, 4 HK, 5-9 "Noto Sans Mono CJK" JP/KR/SC/TC/HK
# and the script checks it again on every run: it stops if face $FACE of either
# file is not "Noto Sans CJK SC" (the JP/KR faces draw some hanzi differently).
#
# What the subset covers (see README.md):
#   - all of GB2312 (its 6763 hanzi and its 682 symbols: punctuation, fullwidth
#     forms, ①⑴⒈Ⅰ, Greek, Cyrillic, kana, box drawing, ℃ ￥ § № ☆ ★ ○ ● ◎ …)
#   - ASCII and Latin-1 (¥ · × ÷ ° ± …), general punctuation (— – … ‘ ’ “ ” ‰ ※),
#     CJK symbols and punctuation (U+3000–303F: 、。〈〉《》「」『』【】〔〕〇 …),
#     halfwidth/fullwidth forms (U+FF00–FFEF), arrows (→ ← ↑ ↓ ⇄ …), math
#     operators (≤ ≥ ≠ …), letterlike symbols (℃ № ™ …), enclosed numbers
#     (① ⑴ ⒈ …), box drawing, geometric shapes (● ○ ■ □ ▲ ▶ ◀ …), ★ ☆ ☎ ⚠, ✓
#     — each only where the font has a glyph for it;
#   - every character listed in extra-chars.txt (if present), for a hall's
#     own words or names outside GB2312 (e.g. 喆 堃 昇 玥 镕).
#
# Needs: python3 with fontTools (`pip install fonttools`, which also provides
# pyftsubset) and fonts-noto-cjk.
#
# Usage:   assets/fonts/make-subset.sh            (from anywhere)
# Env:     NOTO_DIR  directory of the .ttc files (default above)
#          FACE      face index inside the .ttc   (default 2, checked)
#          NO_HINTING=1  drop the CFF hints: about 15 % smaller files (~1.6 MB
#                    each), slightly softer small text with hinting renderers
#
# Idempotent: it rewrites all three outputs from the source every run, and sets
# SOURCE_DATE_EPOCH (fontTools then stamps head.modified with it instead of
# "now"), so the same inputs give byte-identical files.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NOTO_DIR="${NOTO_DIR:-/usr/share/fonts/opentype/noto}"
FACE="${FACE:-2}"
EXPECTED_FAMILY="Noto Sans CJK SC"

command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 1; }
python3 -c 'import fontTools' 2>/dev/null \
  || { echo "fontTools is missing: pip install fonttools" >&2; exit 1; }
for w in Regular Bold; do
  [[ -f "$NOTO_DIR/NotoSansCJK-$w.ttc" ]] \
    || { echo "$NOTO_DIR/NotoSansCJK-$w.ttc is missing: apt-get install fonts-noto-cjk" >&2; exit 1; }
done

# Reproducible timestamps: the source font's own modification time.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(stat -c %Y "$NOTO_DIR/NotoSansCJK-Regular.ttc")}"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# 1. Check that face $FACE is the SC face in both files.
python3 - "$NOTO_DIR" "$FACE" "$EXPECTED_FAMILY" <<'PY'
import sys
from fontTools.ttLib import TTFont
noto_dir, face, expected = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for w in ("Regular", "Bold"):
    path = f"{noto_dir}/NotoSansCJK-{w}.ttc"
    family = TTFont(path, fontNumber=face, lazy=True)["name"].getDebugName(1)
    if family != expected:
        sys.exit(f"{path} face {face} is {family!r}, not {expected!r}")
    print(f"ok: {path} face {face} = {family}")
PY

# 2. The code points to keep, one hex code point a line.
python3 - "$HERE/extra-chars.txt" > "$TMP/unicodes.txt" <<'PY'
import sys, os
cps = set()
# All of GB2312: row/cell bytes 0xA1..0xFE; the codec rejects unassigned cells.
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            cps.add(ord(bytes([hi, lo]).decode("gb2312")))
        except UnicodeDecodeError:
            pass
ranges = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1 supplement: ¥ · × ÷ ° ± …
    (0x2010, 0x2027),  # dashes, quotes, …
    (0x2030, 0x203B),  # ‰ ′ ″ ※
    (0x2100, 0x214F),  # letterlike: ℃ № ™ …
    (0x2160, 0x217F),  # Roman numerals
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # math operators: ≤ ≥ ≠ …
    (0x2460, 0x24FF),  # enclosed alphanumerics: ① ⑴ ⒈
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # geometric shapes: ● ○ ■ □ ▲ ▶ ◀ (no ► ◄ in the font)
    (0x2600, 0x26FF),  # ★ ☆ ☎ ⚠ …
    (0x2713, 0x2718),  # ✓ (the font has no ✔ ✕ ✖ ✗ ✘: use × or ╳ for "no")
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0xFF00, 0xFFEF),  # halfwidth and fullwidth forms
]
for a, b in ranges:
    cps.update(range(a, b + 1))
extra = sys.argv[1]
if os.path.exists(extra):
    for line in open(extra, encoding="utf-8"):
        if line.lstrip().startswith("#"):
            continue
        cps.update(ord(c) for c in line if not c.isspace())
for cp in sorted(cps):
    print(f"{cp:04X}")
PY
echo "asking for $(wc -l < "$TMP/unicodes.txt") code points (only those the font has are kept)"

# 3. Subset each weight.
# Layout features: only kern/liga/ccmp/calt. The SC face's 'locl' (and 'aalt')
# lookups map every hanzi to its JP/KR/TC shapes; keeping them pulls in ~5800
# more glyphs and nearly doubles the file. Vertical-writing tables are dropped.
hinting=()
[[ "${NO_HINTING:-0}" == 1 ]] && hinting=(--no-hinting)
for w in Regular Bold; do
  out="$HERE/NotoSansSC-$w-subset.ttf"
  pyftsubset "$NOTO_DIR/NotoSansCJK-$w.ttc" \
    --font-number="$FACE" \
    --unicodes-file="$TMP/unicodes.txt" \
    --layout-features=kern,liga,ccmp,calt \
    --drop-tables+=vhea,vmtx,VORG \
    --name-IDs='*' \
    --notdef-outline \
    "${hinting[@]}" \
    --output-file="$TMP/out.ttf"
  mv -f "$TMP/out.ttf" "$out"
  echo "wrote $out ($(stat -c %s "$out") bytes)"
done

# 4. The license, from the Debian package (its "License: SIL-1.1" paragraph).
python3 - /usr/share/doc/fonts-noto-cjk/copyright > "$TMP/OFL.txt" <<'PY'
import sys
# The stand-alone paragraph (after a blank line), not the "Files: *" one.
lines, out, on = open(sys.argv[1], encoding="utf-8").read().splitlines(), [], False
for prev, line in zip([""] + lines, lines):
    if line.strip() == "License: SIL-1.1" and prev.strip() == "":
        on = True
        continue
    if on:
        if not line.startswith(" "):
            break
        body = line[1:]
        out.append("" if body == "." else body)
text = "\n".join(out).strip("\n")
if "SIL OPEN FONT LICENSE Version 1.1" not in text or "DISCLAIMER" not in text:
    sys.exit("could not find the OFL 1.1 text in " + sys.argv[1])
print("Noto Sans CJK SC (subset files NotoSansSC-Regular-subset.ttf and")
print("NotoSansSC-Bold-subset.ttf, made from Debian's fonts-noto-cjk)")
print()
# Copyright line as in the font's name table (ID 0, "© 2014-2021 Adobe") and
# upstream noto-cjk's LICENSE (which names the Reserved Font Name 'Source';
# the subsets keep the name "Noto Sans CJK SC", so it is not used).
print("Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name 'Source'.")
print("Noto is a trademark of Google Inc.")
print()
print("This Font Software is licensed under the SIL Open Font License, Version 1.1.")
print("This license is copied below, and is also available with a FAQ at:")
print("https://openfontlicense.org")
print()
print(text)
PY
mv -f "$TMP/OFL.txt" "$HERE/OFL.txt"
echo "wrote $HERE/OFL.txt"

# 5. Check: a few hall words, ASCII, the name, and report coverage.
python3 - "$HERE" <<'PY'
import sys
from fontTools.ttLib import TTFont
here = sys.argv[1]
must = ("户籍身份证车驾管违法处理出入境请到号窗口办理前面还有人预计等待约分钟"
        "暂停服务长者模式绿色通道取您好选择保管票留意叫网络连接中断咨询台"
        + "".join(chr(c) for c in range(0x20, 0x7F))
        + "·、。，：；！？（）《》「」【】—…×→←↑↓✓√╳●○▶◀★☆☎⚠¥￥℃０１２３")
for w in ("Regular", "Bold"):
    f = TTFont(f"{here}/NotoSansSC-{w}-subset.ttf")
    cmap = f.getBestCmap()
    missing = [c for c in must if ord(c) not in cmap]
    if missing:
        sys.exit(f"{w}: missing {''.join(missing)!r}")
    han = sum(1 for c in cmap if 0x4E00 <= c <= 0x9FFF)
    print(f"ok: {w}: {f['name'].getDebugName(4)}, {len(cmap)} characters "
          f"({han} hanzi), {f['maxp'].numGlyphs} glyphs, outlines "
          f"{'CFF' if 'CFF ' in f else 'glyf'}")
PY
