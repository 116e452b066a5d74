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
[ "$("$B/berthctl" template --state-dir "$S" list | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" = "fromdir fromtar " ] && ok "list shows both, sorted" || nok "list: $("$B/berthctl" template --state-dir "$S" list | tr '\n' ' ')"
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

# Special files: a tarball with a char device like /dev/mem (c 1 1, 0666),
# a block device, a setuid root binary and a setgid file. Imported, they
# are gone / lose the bits; with --keep-special they stay and `template ls`
# says so.
mkdir -p "$T/sp/bin" "$T/sp/dev" "$T/sp/etc"
cp /bin/busybox "$T/sp/bin/busybox"
ln -s busybox "$T/sp/bin/sh"
cp /bin/busybox "$T/sp/bin/suid"
chmod 4755 "$T/sp/bin/suid"
cp /bin/busybox "$T/sp/bin/sgid"
chmod 2755 "$T/sp/bin/sgid"
mknod -m 0666 "$T/sp/dev/mem" c 1 1
mknod -m 0666 "$T/sp/dev/snblk" b 7 0
echo "root:x:0:0:root:/root:/bin/sh" > "$T/sp/etc/passwd"
tar -C "$T/sp" -cf "$T/sp.tar" .
specials() { find "$1" \( -type c -o -type b -o -perm -4000 -o -perm -2000 \) | sort | tr '\n' ' '; }
"$B/berthctl" template --state-dir "$S" import snspecial "$T/sp.tar" && ok "import of a tarball with special files" || nok "import with special files"
got=$(specials "$S/templates/snspecial")
[ -z "$got" ] && ok "imported: no device node, no setuid or setgid file" || nok "imported tree keeps: $got"
[ -x "$S/templates/snspecial/bin/suid" ] && [ "$(stat -c %a "$S/templates/snspecial/bin/suid")" = 755 ] &&
  ok "the setuid file stays, as 0755" || nok "setuid file: $(stat -c %a "$S/templates/snspecial/bin/suid" 2>&1)"
# (cp -a copies file capabilities, tar -x does not restore them)
cp /bin/busybox "$T/sp/bin/capped"
command -v setcap >/dev/null && setcap cap_net_raw+ep "$T/sp/bin/capped"
"$B/berthctl" template --state-dir "$S" import sndir "$T/sp" && [ -z "$(specials "$S/templates/sndir")" ] &&
  ok "imported from a directory: no device node, no setuid or setgid file" || nok "directory import keeps: $(specials "$S/templates/sndir")"
if command -v getcap >/dev/null; then
  [ -z "$(getcap "$S/templates/sndir/bin/capped")" ] && ok "imported from a directory: no file capabilities" ||
    nok "file capabilities kept: $(getcap "$S/templates/sndir/bin/capped")"
fi
"$B/berthctl" template --state-dir "$S" import --keep-special snkept "$T/sp.tar" && ok "import --keep-special" || nok "import --keep-special"
got=$(specials "$S/templates/snkept")
want="$S/templates/snkept/bin/sgid $S/templates/snkept/bin/suid $S/templates/snkept/dev/mem $S/templates/snkept/dev/snblk "
[ "$got" = "$want" ] && ok "--keep-special keeps the device nodes and setuid/setgid bits" || nok "--keep-special kept: '$got'"
ls_out=$("$B/berthctl" template --state-dir "$S" ls)
printf '%s\n' "$ls_out" | grep -qE '^snkept +imported .* kept ' && printf '%s\n' "$ls_out" | grep -qE '^snspecial +imported .* dropped ' &&
  ok "template ls shows which templates kept their special files" || nok "template ls: $(oneline "$ls_out")"
grep -qx "special-files=kept" "$S/templates/.meta/snkept" 2>/dev/null && grep -qx "special-files=dropped" "$S/templates/.meta/snspecial" 2>/dev/null &&
  ok "the choice is recorded in the cache's metadata" || nok "metadata: $(cat "$S/templates/.meta/snkept" 2>&1)"
"$B/berthctl" template --state-dir "$S" remove snkept && [ ! -e "$S/templates/.meta/snkept" ] && ok "remove deletes the metadata" || nok "metadata left after remove"
exit $fail
