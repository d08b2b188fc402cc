#!/usr/bin/env bash
# make-clips.sh — generate the default voice clips of jiaohao's wall display
# (语音叫号) from espeak-ng, plus a chime made with sox.
#
# What it makes (see README.md for the full list and the pinyin table):
#   zh/chime.wav                      two-tone ding-dong, 0.8 s (sox synth, not speech)
#   zh/0.wav … zh/9.wav               零 一 二 三 四 五 六 七 八 九 (1.wav is yī)
#   zh/1-yao.wav                      幺 yāo: "1" as read in numbers — use this one
#                                     when reading ticket and window numbers digit by digit
#   zh/A.wav … zh/Z.wav               letter names as Chinese speakers say them
#   zh/qing.wav hao.wav dao.wav chuangkou.wav banli.wav   请 号 到 窗口 办理
#   en/0.wav … en/9.wav               zero … nine
#   en/A.wav … en/Z.wav               letter names
#   en/number.wav                     "Number"
#   en/please-go-to-window.wav        "please go to window"
# so that "请 A 零 一 二 号 到 三 号 窗口 办理" is
#   chime qing A 0 1-yao 2 hao dao 3 hao chuangkou banli
# and "Number A 0 1 2, please go to window 3" is
#   number A 0 1 2 please-go-to-window 3   (from en/)
#
# Every clip: WAV, 16-bit signed PCM, mono, $RATE Hz (22050 by default, espeak-ng's own rate);
# leading and trailing silence trimmed (sox `silence`, threshold -50 dB), 3 ms
# fade-in and 10 ms fade-out against clicks, loudness normalised to an RMS level
# of $TARGET_RMS dBFS with peaks kept at or below $PEAK_MAX dBFS. The clips carry no
# silence at either end: the player adds the pauses between them (README.md).
#
# Mandarin: only espeak-ng's `cmn-latn-pinyin` voice reads Mandarin correctly
# (the `cmn` and `zh` voices are broken on Debian 12). It reads pinyin; tone
# numbers ("qing3") and tone marks ("qǐng") give the same phonemes (checked with
# `espeak-ng -v cmn-latn-pinyin -x -q`), tone 5 is the neutral tone, a syllable
# with no tone is read as tone 1. Syllables written together ("chuang1kou3")
# are spoken as one word, without the pause espeak puts between separate ones.
#
# Needs: espeak-ng and sox (`apt-get install espeak-ng sox`), awk.
#
# Usage:   assets/voice/make-clips.sh             (from anywhere)
# Env:     RATE       sample rate in Hz         (default 22050; 16000 makes the set ~28 % smaller)
#          OUT_DIR    where zh/ and en/ go      (default: next to this script)
#          SPEED_ZH   espeak-ng words/minute, Mandarin (default 140)
#          SPEED_EN   espeak-ng words/minute, English  (default 150)
#          VOICE_ZH   (default cmn-latn-pinyin)   VOICE_EN (default en-us)
#                     e.g. VOICE_ZH=cmn-latn-pinyin+f3 for a female variant
#
# Idempotent: it overwrites exactly the files listed above (nothing else in
# zh/ or en/ is touched or deleted) and the output is byte-identical from run
# to run (sox runs without dither). A hall's own recordings placed under the
# same names ARE overwritten: keep them elsewhere, or do not run this script.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT_DIR="${OUT_DIR:-$HERE}"
RATE="${RATE:-22050}"
SPEED_ZH="${SPEED_ZH:-140}"
SPEED_EN="${SPEED_EN:-150}"
VOICE_ZH="${VOICE_ZH:-cmn-latn-pinyin}"
VOICE_EN="${VOICE_EN:-en-us}"
TARGET_RMS=-18 # dBFS
PEAK_MAX=-1    # dBFS

for tool in espeak-ng sox soxi awk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install espeak-ng sox" >&2; exit 1; }
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT_DIR/zh" "$OUT_DIR/en"

# sox: -D no dither (repeatable output), -R repeatable mode, -V1 errors only.
SOX=(sox -D -R -V1)

# normalise IN OUT [TARGET_RMS]: gain so the RMS level is TARGET_RMS dBFS,
# but never more than lets the peak reach PEAK_MAX dBFS.
normalise() {
  local in="$1" out="$2" target="${3:-$TARGET_RMS}" g
  g="$("${SOX[@]}" "$in" -n stats 2>&1 | awk -v t="$target" -v p="$PEAK_MAX" '
      /^Pk lev dB/  { pk = $4 }
      /^RMS lev dB/ { rms = $4 }
      END {
        if (pk == "" || rms == "" || rms == "-inf") { print "EMPTY"; exit }
        g = t - rms; if (pk + g > p) g = p - pk; printf "%.2f", g
      }')"
  [[ "$g" != EMPTY ]] || { echo "clip is silent: $in" >&2; exit 1; }
  "${SOX[@]}" "$in" -b 16 "$out" gain "$g"
}

# finish IN OUT: trim silence at both ends, fade, resample, 16-bit mono, normalise.
# (The end is trimmed and faded on the reversed audio: after `silence` sox no
# longer knows the length, so a plain fade-out would fail.)
finish() {
  local in="$1" out="$2"
  "${SOX[@]}" "$in" -b 16 -c 1 "$TMP/trimmed.wav" \
    silence 1 0.01 -50d reverse silence 1 0.01 -50d fade t 0.01 reverse fade t 0.003 \
    rate -v "$RATE"
  normalise "$TMP/trimmed.wav" "$TMP/final.wav"
  mv -f "$TMP/final.wav" "$out"
}

# speak VOICE SPEED TEXT OUT
speak() {
  espeak-ng -v "$1" -s "$2" -w "$TMP/raw.wav" -- "$3"
  finish "$TMP/raw.wav" "$4"
}

# --- the chime: ding (E5) then dong (C5), each a sine with a softer octave,
# a 4 ms attack and a bell-like exponential decay; 0.8 s in all. ------------
note() { # OUT FREQ LENGTH
  "${SOX[@]}" -c 2 -r "$RATE" -n -c 1 -b 16 "$1" \
    synth 1.8 sine "$2" sine "$(awk -v f="$2" 'BEGIN { print 2 * f }')" \
    remix 1v0.8,2v0.2 \
    fade l 0.004 1.8 1.796 trim 0 "$3" fade t 0 "$3" 0.12
}
note "$TMP/ding.wav" 659.25 0.6
note "$TMP/dong.wav" 523.25 0.5
"${SOX[@]}" "$TMP/dong.wav" "$TMP/dong-late.wav" pad 0.3 0
"${SOX[@]}" -m -v 0.6 "$TMP/ding.wav" -v 0.6 "$TMP/dong-late.wav" "$TMP/chime-raw.wav"
normalise "$TMP/chime-raw.wav" "$OUT_DIR/zh/chime.wav" -20

# --- Mandarin (pinyin with tone numbers) ------------------------------------
# file name (without .wav) | pinyin fed to espeak-ng   (README.md has the table)
# A letter name of several syllables is written as one word so that it is
# spoken as one, without espeak's pause between separate syllables.
zh_clips=(
  "0|ling2" "1|yi1" "1-yao|yao1" "2|er4" "3|san1" "4|si4"
  "5|wu3" "6|liu4" "7|qi1" "8|ba1" "9|jiu3"
  "A|ei1" "B|bi4" "C|xi1" "D|di4" "E|yi4" "F|ai4fu5" "G|ji4"
  "H|ei1qi5" "I|ai4" "J|zhei4" "K|kei4" "L|ai4lou5" "M|ai4mu5"
  "N|en1" "O|ou1" "P|pi1" "Q|qiu1" "R|a1er5" "S|ai4si1" "T|ti4"
  "U|you1" "V|wei1" "W|da1bu5liu1" "X|ai4ke5si1" "Y|wai1" "Z|zei4"
  "qing|qing3" "hao|hao4" "dao|dao4" "chuangkou|chuang1kou3" "banli|ban4li3"
)
for c in "${zh_clips[@]}"; do
  speak "$VOICE_ZH" "$SPEED_ZH" "${c#*|}" "$OUT_DIR/zh/${c%%|*}.wav"
done

# --- English ----------------------------------------------------------------
en_clips=(
  "0|zero" "1|one" "2|two" "3|three" "4|four"
  "5|five" "6|six" "7|seven" "8|eight" "9|nine"
  "number|Number" "please-go-to-window|please go to window"
)
for l in {A..Z}; do en_clips+=("$l|$l"); done # a lone capital is read as its name
for c in "${en_clips[@]}"; do
  speak "$VOICE_EN" "$SPEED_EN" "${c#*|}" "$OUT_DIR/en/${c%%|*}.wav"
done

# --- check: every clip non-empty, speech at most 1.5 s, one format ---------
bad=0
for lang in zh en; do
  for f in "$OUT_DIR/$lang"/*.wav; do
    d="$(soxi -D "$f")"
    fmt="$(soxi -r "$f")/$(soxi -b "$f")/$(soxi -c "$f")"
    limit=1.5; [[ "$(basename "$f")" == chime.wav ]] && limit=1.0
    if [[ "$fmt" != "$RATE/16/1" ]] || awk -v d="$d" -v l="$limit" 'BEGIN { exit !(d < 0.05 || d > l) }'; then
      echo "BAD: $f: ${d}s, rate/bits/channels $fmt" >&2
      bad=1
    fi
  done
done
[[ "$bad" == 0 ]] || exit 1
n="$(ls "$OUT_DIR"/zh/*.wav "$OUT_DIR"/en/*.wav | wc -l)"
echo "ok: $n clips, $(du -cb "$OUT_DIR"/zh/*.wav "$OUT_DIR"/en/*.wav | tail -1 | cut -f1) bytes, ${RATE} Hz 16-bit mono, in $OUT_DIR/{zh,en}"
