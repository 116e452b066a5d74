#!/bin/bash
# boot-test.sh BUILD — the systemd lane: boots a small Debian 12 system with
# systemd as PID 1 in QEMU (TCG is enough), with berth installed by
# `make install DESTDIR=<image> PREFIX=/usr` and berthd.service enabled on
# the example definitions, and runs tests/vm/boot-guest.sh there: start at
# boot in order, reload, crash and restart with re-adoption, watchdog, stop
# in reverse order. Prints "ok ..." / "not ok ..." lines; exits non-zero on
# failure; exits 0 with "# boot: skipped ..." when the image cannot be built.
#
# The root file system comes from tests/vm/debian-image.sh (debootstrap,
# cached in tests/vm/cache/); kernel and initrd are the host's
# (/boot/vmlinuz-*, initrd.img-*), its modules are copied into the image.
# Knobs: VM_TIMEOUT (default 600 s, 1200 with the CRIU checks), VM_MEM (1024, 1536 with
# the CRIU checks), VM_KEEP=1, VM_CONSOLE=1, BOOT_CRIU=0 (leaves out the checkpoint/restore
# checks: boot-guest-criu20.sh, migrate --live to a second berthd boot-guest-live20.sh, an
# init = true container boot-guest-init20.sh, stateful stop across systemctl stop/start
# berthd boot-guest-stateful20.sh; a few minutes of the guest's time under TCG). They are on
# by default since 2026-12-03: after the fixes of a memfd init and an in-flight connection,
# criu20 passed in every lane run of that day (six), and the four together in the merged run.
# BOOT_LXC=1 (a benchmark, not in `make check`): an image with Debian's lxc, and
# boot-guest-lxcck20.sh times berth's checkpoint/restore and lxc-checkpoint's side by side.
set -u
cd "$(dirname "$0")/../.."
TOP=$PWD
start=$SECONDS
BOOT_CRIU=${BOOT_CRIU:-1}
[ "$BOOT_CRIU" = 0 ] || [ "$BOOT_CRIU" = 1 ] || { echo "not ok boot: BOOT_CRIU must be 0 or 1, not '$BOOT_CRIU'"; exit 1; }
BOOT_LXC=${BOOT_LXC:-0}
[ "$BOOT_LXC" = 0 ] || [ "$BOOT_LXC" = 1 ] || { echo "not ok boot: BOOT_LXC must be 0 or 1, not '$BOOT_LXC'"; exit 1; }
[ "$BOOT_LXC" = 0 ] || [ "$BOOT_CRIU" = 1 ] || { echo "not ok boot: BOOT_LXC=1 needs the CRIU checks (BOOT_CRIU=1)"; exit 1; }
[ "$BOOT_LXC" = 0 ] || export VM_EXTRA_PKGS="${VM_EXTRA_PKGS:-} lxc iptables" # iptables: CRIU locks the network of lxc-checkpoint's dump with it
if ! TAR=$(tests/vm/debian-image.sh); then
  echo "# boot: skipped: no Debian image (see the message above; needs debootstrap and the mirror)"
  exit 0
fi
KERNEL=${VM_KERNEL:-$(ls -1v /boot/vmlinuz-* 2>/dev/null | tail -n1)}
KVER=${KERNEL##*/vmlinuz-}
INITRD=/boot/initrd.img-$KVER
for f in "$KERNEL" "$INITRD" /lib/modules/"$KVER"/modules.dep; do
  [ -r "$f" ] || { echo "# boot: skipped: $f missing (linux-image-amd64, initramfs-tools)"; exit 0; }
done
QEMU=$(command -v qemu-system-x86_64) || { echo "# boot: skipped: no qemu-system-x86_64"; exit 0; }

W=$(mktemp -d /tmp/btboot.XXXXXX)
cleanup() { [ "${VM_KEEP:-0}" = 1 ] && echo "# kept $W" || rm -rf "$W"; }
trap cleanup EXIT
R=$W/root
mkdir -p "$R"
tar -C "$R" --numeric-owner --xattrs -xf "$TAR" || { echo "not ok boot: cannot unpack $TAR"; exit 1; }

# berth, installed like a distribution package would be (own build dir: the
# install paths are compiled in).
if ! make --no-print-directory -j2 BUILD="$W/build" install DESTDIR="$R" PREFIX=/usr > "$W/make.log" 2>&1; then
  echo "not ok boot: make install into the image"; tail -n 20 "$W/make.log" | sed 's/^/# /'; exit 1
fi

# Kernel modules: the host kernel's, without the bulky hardware drivers.
mkdir -p "$R/lib/modules"
cp -a "/lib/modules/$KVER" "$R/lib/modules/"
for d in drivers/gpu drivers/media drivers/infiniband drivers/net/wireless drivers/net/ethernet \
         drivers/staging drivers/scsi drivers/usb drivers/bluetooth drivers/iio drivers/hid sound; do
  rm -rf "$R/lib/modules/$KVER/kernel/$d"
done
depmod -b "$R" "$KVER"

# Guest configuration.
echo berthvm > "$R/etc/hostname"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" > "$R/etc/fstab"
printf '127.0.0.1\tlocalhost berthvm\n' > "$R/etc/hosts"
ln -sf /usr/lib/systemd/system/berthd.service "$R/etc/systemd/system/multi-user.target.wants/berthd.service"
mkdir -p "$R/etc/systemd/system/berthd.service.d"
cat > "$R/etc/systemd/system/berthd.service.d/boottest.conf" <<'U'
# boot test: a short watchdog so that a SIGSTOPped berthd is caught quickly
# (not 5 s: under TCG the first start loads nf_tables, bridge and veth
# modules from berthd's process and misses a 5 s watchdog).
[Service]
WatchdogSec=15s
U
install -m 0755 tests/vm/boot-guest.sh "$R/usr/local/sbin/berth-boot-guest"
install -m 0644 tests/vm/boot-guest-jrn21.sh "$R/usr/local/sbin/berth-boot-guest-jrn21"
install -m 0755 tests/vm/boot-guest-criu20.sh "$R/usr/local/sbin/berth-boot-guest-criu20"
install -m 0755 tests/vm/boot-guest-live20.sh "$R/usr/local/sbin/berth-boot-guest-live20"
install -m 0755 tests/vm/boot-guest-init20.sh "$R/usr/local/sbin/berth-boot-guest-init20"
install -m 0755 tests/vm/boot-guest-stateful20.sh "$R/usr/local/sbin/berth-boot-guest-stateful20"
[ "$BOOT_CRIU" != 1 ] || touch "$R/etc/berth-boot-criu" # the checkpoint/restore checks (boot-guest.sh)
install -m 0755 tests/vm/boot-guest-lxcck20.sh "$R/usr/local/sbin/berth-boot-guest-lxcck20"
[ "$BOOT_LXC" != 1 ] || touch "$R/etc/berth-boot-lxc" # berth's checkpoint/restore next to lxc-checkpoint's
cat > "$R/etc/systemd/system/berth-boottest.service" <<'U'
[Unit]
Description=berth boot test
After=berthd.service
Wants=berthd.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/berth-boot-guest
TimeoutStartSec=infinity
[Install]
WantedBy=multi-user.target
U
ln -sf /etc/systemd/system/berth-boottest.service "$R/etc/systemd/system/multi-user.target.wants/berth-boottest.service"
# Nothing to wait for on a console-less VM.
for u in getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer; do
  ln -sf /dev/null "$R/etc/systemd/system/$u"
done

# (with the CRIU checks, room for live20's images of 256 MB, on each side of the move)
size=$(( $(du -sm "$R" | cut -f1) + 400 + BOOT_CRIU * 1000 ))
if ! mkfs.ext4 -q -F -L berthroot -d "$R" "$W/disk.img" "${size}M" > "$W/mkfs.log" 2>&1; then
  echo "not ok boot: mkfs.ext4 -d"; sed 's/^/# /' "$W/mkfs.log"; exit 1
fi
rm -rf "$R"
echo "# boot: image ready in $((SECONDS - start)) s ($size MiB)"

ACCEL=(-accel tcg)
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=(-accel kvm -accel tcg); fi
boot=$SECONDS
timeout -k 10 "${VM_TIMEOUT:-$((600 + BOOT_CRIU * 600))}" "$QEMU" "${ACCEL[@]}" -m "${VM_MEM:-$((1024 + BOOT_CRIU * 512))}" -smp 2 -cpu max \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$KERNEL" -initrd "$INITRD" \
  -append "root=/dev/vda rw console=ttyS0 init=/lib/systemd/systemd systemd.unified_cgroup_hierarchy=1 panic=-1 quiet" \
  -drive "file=$W/disk.img,format=raw,if=virtio" \
  -serial "file:$W/console.log" -serial "file:$W/out.log" < /dev/null 2> "$W/qemu.err"
qrc=$?
tr -d '\r' < "$W/out.log" > "$W/out"
if [ "${VM_CONSOLE:-0}" = 1 ]; then echo "----- guest console -----"; tr -d '\r' < "$W/console.log"; fi
grep -v '^VM-RESULT' "$W/out"
rc=$(sed -n 's/^VM-RESULT: rc=\([0-9]*\)$/\1/p' "$W/out" | tail -n1)
echo "# boot: VM ran $((SECONDS - boot)) s, lane $((SECONDS - start)) s"
if [ -z "$rc" ]; then
  echo "not ok boot: no result from the guest (qemu rc=$qrc)"
  sed 's/^/# qemu: /' "$W/qemu.err"; tr -d '\r' < "$W/console.log" | tail -n 40 | sed 's/^/# console: /'
  exit 1
fi
[ "$rc" = 0 ] || { tr -d '\r' < "$W/console.log" | tail -n 20 | sed 's/^/# console: /'; }
[ "$rc" = 0 ]
