#!/bin/bash
# Memory of the containers' PID 1 (berth-init) under one berthd: USS/PSS/RSS of
# each init and the shmem the inits hold (their sealed copies).
#   bench/init_memory.sh BUILD N   (as root; N busybox containers, bounded, cleans up)
B=$(cd "$1" && pwd); N=${2:-20}; R=$(mktemp -d /tmp/memb.XXXX); mkdir -p $R/conf $R/state $R/run
for i in $(seq 1 $N); do printf 'container mb%s-%d {\n template = "busybox"\n command = { "/bin/sleep", "1000" }\n autostart = true\n}\n' $$ $i > $R/conf/c$i.conf; done
BERTH_TEMPLATES=$(cd "$(dirname "$0")/.." && pwd)/templates $B/berthd -c $R/conf --state-dir $R/state --run-dir $R/run >$R/log 2>&1 &
D=$!
for i in $(seq 1 300); do n=$(BERTH_SOCKET=$R/run/control.sock $B/berthctl ls 2>/dev/null | grep -c running); [ "$n" = $N ] && break; sleep 0.2; done
sleep 1
shm0=$(awk '/^Shmem:/ {print $2}' /proc/meminfo)
python3 - $R <<'PY'
import os,sys
R=sys.argv[1]; tot={'uss':0,'pss':0,'rss':0}; n=0
for p in os.listdir('/proc'):
    if not p.isdigit(): continue
    try:
        exe=os.readlink('/proc/%s/exe'%p)
        if 'berth-init' not in exe: continue
        cmd=open('/proc/%s/cmdline'%p,'rb').read()
        if not cmd.startswith(b'berth-init\0init'): continue
        # only ours: its parent is a monitor with R in argv
        pp=open('/proc/%s/stat'%p).read().rsplit(')',1)[1].split()[1]
        if R.encode() not in open('/proc/%s/cmdline'%pp,'rb').read(): continue
        d={}
        for l in open('/proc/%s/smaps_rollup'%p):
            k,v=l.split(':',1)[0],l.split()[1] if len(l.split())>1 else '0'
            d[k]=v
        tot['uss']+=int(d['Private_Clean'])+int(d['Private_Dirty']); tot['pss']+=int(d['Pss']); tot['rss']+=int(d['Rss']); n+=1
    except Exception as e: pass
print("inits %d: USS %d kB total (%.0f each), PSS %.0f each, RSS %.0f each" % (n, tot['uss'], tot['uss']/max(n,1), tot['pss']/max(n,1), tot['rss']/max(n,1)))
PY
echo "Shmem now: $shm0 kB"
kill $D; wait $D
shm1=$(awk '/^Shmem:/ {print $2}' /proc/meminfo)
echo "Shmem after stop: $shm1 kB (freed $((shm0-shm1)) kB over $N containers)"
rm -rf $R
