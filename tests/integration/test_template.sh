#!/bin/bash
# berthctl template: build, import (directory and tarball), list, remove;
# a container runs on an imported template and never writes into it.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
B=${BERTH_BUILD:?}
T=$(mktemp -d /tmp/bttpl.XXXXXX)
trap 'rm -rf "$T"' EXIT
S=$T/state
mkdir -p "$T/src/bin" "$T/src/etc" "$T/conf"
cp /bin/busybox "$T/src/bin/busybox"
ln -s busybox "$T/src/bin/sh"
echo "root:x:0:0:root:/root:/bin/sh" > "$T/src/etc/passwd"

[ -z "$("$B/berthctl" template --state-dir "$S" list)" ] && ok "template list is empty on a new state dir" || nok "template list not empty"
"$B/berthctl" template --state-dir "$S" import fromdir "$T/src" && ok "import from a directory" || nok "import from a directory"
tar -C "$T/src" -czf "$T/t.tgz" .
"$B/berthctl" template --state-dir "$S" import fromtar "$T/t.tgz" && ok "import from a tarball" || nok "import from a tarball"
[ "$("$B/berthctl" template --state-dir "$S" list | tr '\n' ' ')" = "fromdir fromtar " ] && ok "list shows both, sorted" || nok "list: $("$B/berthctl" template --state-dir "$S" list | tr '\n' ' ')"
"$B/berthctl" template --state-dir "$S" import fromtar "$T/t.tgz" 2>"$T/err"; rc=$?
[ $rc = 1 ] && grep -q "exists" "$T/err" && ok "importing over an existing template is refused" || nok "re-import rc=$rc $(cat "$T/err")"
"$B/berthctl" template --state-dir "$S" import 'Bad/Name' "$T/t.tgz" 2>/dev/null; [ $? = 2 ] && ok "a bad template name is a usage error" || nok "bad name accepted"
"$B/berthctl" template --state-dir "$S" import broken /etc/hostname 2>/dev/null; [ $? = 1 ] && [ ! -e "$S/templates/broken" ] && ok "a file that is no tarball leaves nothing" || nok "broken import left something"

cat > "$T/conf/a.conf" <<EOC
container imp { template = "fromtar" command = { "/bin/sh", "-c", "echo written > /bin/newfile; cat /bin/newfile" } }
EOC
out=$("$B/berthctl" run -c "$T/conf" --state-dir "$S" imp 2>&1)
[ "$out" = "written" ] && ok "a container runs on an imported template" || nok "run on imported template: $out"
[ ! -e "$S/templates/fromtar/bin/newfile" ] && ok "the container's writes never reach the template" || nok "template was written"
"$B/berthctl" template --state-dir "$S" remove fromdir && [ ! -e "$S/templates/fromdir" ] && ok "remove deletes the template" || nok "remove"
"$B/berthctl" template --state-dir "$S" remove fromdir 2>/dev/null; [ $? = 1 ] && ok "removing a missing template fails" || nok "remove missing"
exit $fail
