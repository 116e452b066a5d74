#!/bin/bash
# The documentation matches the programs: every man page renders, every row of
# the key table (lib/keys.c, what the parser reads) is documented with its
# default and every documented key is a row (tests/unit/test_docs.c, run here too),
# every verb in `berthctl --help` has its subsection in berthctl(8), the
# Makefile's man target works, and the bash completion offers the verbs and
# container names. Touches nothing outside its own temporary directory.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/btdocs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# (1) every page renders with scdoc, and groff finds nothing to warn about.
for page in man/*.scd; do
  out=$tmp/$(basename "$page" .scd)
  if scdoc < "$page" > "$out" 2> "$tmp/err" && [ -s "$out" ] && grep -q '^\.TH ' "$out"; then
    ok "scdoc renders $page"
  else
    nok "scdoc renders $page: $(head -c 300 "$tmp/err")"
    continue
  fi
  if command -v groff >/dev/null; then
    w=$(groff -man -ww -z -Tutf8 "$out" 2>&1)
    [ -z "$w" ] && ok "groff has no warnings for $page" || nok "groff warns about $page: $(printf '%s' "$w" | head -3)"
  fi
done
for p in berth.conf.5 berthd.8 berthctl.8; do
  [ -f "man/$p.scd" ] && ok "man/$p.scd exists" || nok "man/$p.scd exists"
done

# (2) the parser's keys and the page agree (the unit test reads the page).
if [ -x "$BUILD/tests/test_docs" ]; then
  if out=$("$BUILD/tests/test_docs" 2>&1); then
    ok "berth.conf(5) documents exactly the key table's rows, with their defaults and examples"
  else
    nok "berth.conf(5) documents exactly the key table's rows: $(printf '%s\n' "$out" | grep -v '^\[' | head -5)"
  fi
else
  nok "unit test $BUILD/tests/test_docs is built"
fi

# (3) every verb berthctl lists has its own "## VERB" subsection.
verbs=$("$BUILD/berthctl" --help | awk '/^verbs:/ { v = 1; next } v && /^  [a-z]/ { print $1 }')
[ -n "$verbs" ] && ok "berthctl --help lists verbs ($(echo $verbs))" || nok "berthctl --help lists verbs"
for v in $verbs; do
  grep -qE "^## $v( |\$)" man/berthctl.8.scd && ok "berthctl(8) documents verb $v" ||
    nok "berthctl(8) documents verb $v (no '## $v' subsection)"
done

# (4) make man renders every page into BUILD/man.
if make -s man BUILD="$tmp/build" >"$tmp/make.log" 2>&1 && [ -s "$tmp/build/man/berth.conf.5" ] &&
   [ -s "$tmp/build/man/berthd.8" ] && [ -s "$tmp/build/man/berthctl.8" ]; then
  ok "make man builds the pages"
else
  nok "make man builds the pages: $(head -3 "$tmp/make.log")"
fi

# (5) bash completion: verbs from --help, options from VERB --help, names
# from the definition directory when berthd does not answer.
mkdir -p "$tmp/conf"
printf 'container btdocs-a { template = "busybox" }\n  container btdocs-b {\n rootfs = "/x" }\n' > "$tmp/conf/a.conf"
printf 'container btdocs-c { template = "busybox" }\n' > "$tmp/conf/.hidden.conf.swp"
complete_words() { # WORD... (the last one is being completed)
  bash -c 'source completion/berthctl.bash; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _berthctl; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$BUILD/berthctl" "$@" 2>&1 | sort | tr '\n' ' '
}
got=$(complete_words "")
missing=""
for v in $verbs; do [[ " $got " == *" $v "* ]] || missing="$missing $v"; done
[ -z "$missing" ] && ok "completion offers every verb" || nok "completion offers every verb (missing:$missing; got: $got)"
got=$(complete_words check --)
[ "$got" = "--conf-dir --help --json --socket --state-dir --timeout " ] && ok "completion offers check's options" || nok "completion offers check's options (got: $got)"
got=$(complete_words start -c "$tmp/conf" btdocs)
[ "$got" = "btdocs-a btdocs-b " ] && ok "completion offers container names from the conf dir" ||
  nok "completion offers container names from the conf dir (got: $got)"

exit $fail
