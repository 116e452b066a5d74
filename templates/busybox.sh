#!/bin/sh
# berth template: a minimal root file system from Debian's busybox-static.
#   busybox.sh TARGET     builds the tree in TARGET (an empty directory)
set -eu
T=$1
BB=${BUSYBOX:-/bin/busybox}
if ! [ -x "$BB" ] || ldd "$BB" >/dev/null 2>&1; then
  echo "busybox template: need a static $BB (apt-get install busybox-static)" >&2
  exit 1
fi
mkdir -p "$T"
cd "$T"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp run root var/log var/www home srv
chmod 1777 tmp
chmod 0700 root
cp "$BB" bin/busybox
chmod 0755 bin/busybox
# One symlink per applet, where busybox itself would install it.
for a in $("$BB" --list-full); do
  [ -e "$a" ] || [ -L "$a" ] || ln -s /bin/busybox "$a"
done
cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
www-data:x:33:
users:x:100:
user:x:1000:
nogroup:x:65534:
G
mkdir -p home/user && chown 1000:1000 home/user
echo "berth" > etc/hostname
printf '127.0.0.1\tlocalhost\n' > etc/hosts
: > etc/resolv.conf
echo '<html><body>berth busybox template</body></html>' > var/www/index.html
