#!/bin/bash
# Published ports (issue 17): HTTP throughput and latency through berth's
# DNAT, side by side with the container's own address and with a userland
# proxy (socat, what docker-proxy does) in the same run, at concurrency 20
# and 100. A benchmark, not a test: it judges nothing. See bench/README.md.
#   ports.sh BUILD       BUILD holds berthd, berthctl, berth-monitor, berth-init
# Settings: BENCH_PORTS_N (requests per run, 4000), BENCH_PORTS_ROUNDS (3),
# BENCH_PORTS_C ("20 100").
# The client is ab (apache2-utils) in a network namespace of its own routed
# through the host ("another host"): its TCP counters (nstat) are its own,
# so SYN retransmits are counted per run. Paths, each from that namespace:
#   direct     the container's address, routed by the host (no NAT)
#   published  the host's address, published port (nftables DNAT, prerouting)
#   userland   the host's address, a socat fork-per-connection proxy
# and from the host itself: direct-host (the container's address) and
# published-lo (127.0.0.1, DNAT in output + route_localnet).
# The server is busybox httpd in a berth container (a fork per request:
# the same cost on every path). Addresses: 198.19.N.0/24, found free.
# Everything lives below one mktemp -d; the EXIT trap stops berthd and
# socat and removes the namespace and links.
set -euo pipefail

BUILD=${1:?usage: ports.sh BUILD}
N=${BENCH_PORTS_N:-4000}
ROUNDS=${BENCH_PORTS_ROUNDS:-3}
CONC=${BENCH_PORTS_C:-20 100}
here=$(cd "$(dirname "$0")" && pwd)
RESULTS=${BENCH_RESULTS:-$here/results}
BERTHD=$BUILD/berthd
CTL=$BUILD/berthctl

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "bench: $*" >&2; }

[ "$(id -u)" = 0 ] || die "must run as root"
for f in "$BERTHD" "$CTL" "$BUILD/berth-monitor" "$BUILD/berth-init"; do [ -x "$f" ] || die "no $f (run make all)"; done
[[ $N =~ ^[0-9]+$ && $ROUNDS =~ ^[0-9]+$ ]] || die "BENCH_PORTS_N and BENCH_PORTS_ROUNDS must be numbers"
((N >= 100 && N <= 100000 && ROUNDS >= 1 && ROUNDS <= 20)) || die "BENCH_PORTS_N: 100..100000, BENCH_PORTS_ROUNDS: 1..20"
for c in $CONC; do [[ $c =~ ^[0-9]+$ ]] && ((c >= 1 && c <= 1000)) || die "BENCH_PORTS_C: numbers 1..1000"; done
need=()
command -v ab >/dev/null || need+=(apache2-utils)
command -v socat >/dev/null || need+=(socat)
command -v nstat >/dev/null || need+=(iproute2)
command -v jq >/dev/null || need+=(jq)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null || die "cannot install ${need[*]}"
fi

P=bpt$$
W=$(mktemp -d /tmp/berth-ports.XXXXXX)
D=$W/d
NS=bpt$$
VH=bptv$$
BR=bptb$$
DPID= SPID=
ctl() { BERTH_SOCKET=$D/run/control.sock timeout 60 "$CTL" "$@"; }
cleanup() {
  trap - EXIT INT TERM
  [ -z "$SPID" ] || kill "$SPID" 2>/dev/null || true
  if [ -n "$DPID" ]; then
    kill -TERM "$DPID" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null || true
  fi
  ip netns del "$NS" 2>/dev/null || true
  ip link del "$VH" 2>/dev/null || true
  ip link del "$BR" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT INT TERM

free_oct() { # a 198.19.N that no address or route of the host uses
  local o=$1 i
  for ((i = 0; i < 200; i++)); do
    ip -4 addr | grep -q " 198\.19\.$o\." || ip -4 route | grep -q "^198\.19\.$o\." || { echo "$o"; return; }
    o=$(((o + 1) % 200 + 20))
  done
  die "no free 198.19.N.0/24"
}
sub=198.19.$(free_oct $(($$ % 200 + 20)))
oth=198.19.$(free_oct $((($$ + 97) % 200 + 20)))
[ "$oth" != "$sub" ] || oth=198.19.$(free_oct $((($$ + 151) % 200 + 20)))
WPORT=$((30000 + $$ % 5000)) SPORT=$((WPORT + 1))

mkdir -p "$D/conf" "$D/run" "$D/state"
cat >"$D/conf/net.conf" <<EOF
network $BR {
    subnet = "$sub.0/24"
}
EOF
cat >"$D/conf/$P.conf" <<EOF
container $P {
    template = "busybox"
    autostart = true
    command = { "/bin/sh", "-c", "head -c 1024 /dev/zero | tr '\\\\0' x > /tmp/index.html; exec httpd -f -p 80 -h /tmp" }
    network { bridge = "$BR" address = "$sub.10" publish = { "$WPORT:80" } }
}
EOF
"$BERTHD" -c "$D/conf" --state-dir "$D/state" --run-dir "$D/run" >"$W/berthd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 600); do
  [ "$(ctl inspect "$P" 2>/dev/null | jq -r .state 2>/dev/null)" = running ] && break
  kill -0 "$DPID" 2>/dev/null || die "berthd exited: $(tail -n 5 "$W/berthd.log")"
  sleep 0.1
done
[ "$(ctl inspect "$P" | jq -r .state)" = running ] || die "the container did not start: $(tail -n 5 "$W/berthd.log")"

# the other host: a namespace behind a veth, routed through this one
ip netns add "$NS"
ip link add "$VH" type veth peer name eth0 netns "$NS"
ip addr add "$oth.1/24" dev "$VH"
ip link set "$VH" up
ip -n "$NS" addr add "$oth.2/24" dev eth0
ip -n "$NS" link set eth0 up
ip -n "$NS" link set lo up
ip -n "$NS" route add default via "$oth.1"
echo 1 >/proc/sys/net/ipv4/ip_forward

socat "TCP-LISTEN:$SPORT,bind=$oth.1,fork,reuseaddr,backlog=1024" "TCP:$sub.10:80" &
SPID=$!
for _ in $(seq 1 50); do ss -Hltn "sport = :$SPORT" | grep -q LISTEN && break; sleep 0.1; done

# one PATH WHERE URL: ab's numbers and the client's SYN retransmits as JSON
one() {
  local path=$1 where=$2 url=$3 c=$4 pre=()
  [ "$where" = host ] || pre=(ip netns exec "$NS")
  # nstat's history file per namespace: -n marks now, -z then prints the delta
  export NSTAT_HISTORY=$W/nstat.$where
  "${pre[@]}" nstat -n >/dev/null 2>&1 || true
  local out
  out=$("${pre[@]}" ab -q -n "$N" -c "$c" -s 30 -r "$url" 2>&1) || { say "ab failed on $path: $(tail -n 2 <<<"$out")"; return 1; }
  local syn retr counters
  counters=$("${pre[@]}" nstat -z 2>/dev/null)
  syn=$(awk '$1 == "TcpExtTCPSynRetrans" {print $2}' <<<"$counters")
  retr=$(awk '$1 == "TcpRetransSegs" {print $2}' <<<"$counters")
  awk -v path="$path" -v c="$c" -v syn="${syn:-0}" -v retr="${retr:-0}" '
    /^Requests per second:/ { rps = $4 }
    /^Failed requests:/ { failed = $3 }
    /^ +50% / { p50 = $2 } /^ +99% / { p99 = $2 } /^ +100% / { pmax = $2 }
    END { printf "{\"path\":\"%s\",\"c\":%d,\"rps\":%s,\"p50_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s,\"failed\":%s,\"syn_retrans\":%s,\"retrans_segs\":%s}\n",
          path, c, rps, p50, p99, pmax, failed, syn, retr }' <<<"$out"
}

paths=("direct netns http://$sub.10:80/index.html"
       "published netns http://$oth.1:$WPORT/index.html"
       "userland netns http://$oth.1:$SPORT/index.html"
       "direct-host host http://$sub.10:80/index.html"
       "published-lo host http://127.0.0.1:$WPORT/index.html")
for p in "${paths[@]}"; do # each path answers before anything is timed
  read -r path where url <<<"$p"
  if [ "$where" = host ]; then curl -sf -m 5 -o /dev/null "$url"; else ip netns exec "$NS" curl -sf -m 5 -o /dev/null "$url"; fi ||
    die "$path ($url) does not answer"
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$W/runs.jsonl"
for ((r = 0; r < ROUNDS; r++)); do
  for c in $CONC; do
    k=${#paths[@]}
    for ((i = 0; i < k; i++)); do # rotated each round: drift hits all paths alike
      read -r path where url <<<"${paths[$(((i + r) % k))]}"
      say "round $((r + 1))/$ROUNDS c=$c $path"
      one "$path" "$where" "$url" "$c" >>"$W/runs.jsonl" || true
    done
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$RESULTS"
out=$RESULTS/ports-$(date -u +%FT%H%M%S).json
jq -s --arg load_before "$load_before" --arg load_after "$load_after" --argjson n "$N" --argjson rounds "$ROUNDS" \
  --arg commit "$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --arg kernel "$(uname -r)" --arg cpus "$(nproc)" '
  def med: sort | if length == 0 then null else .[(length / 2 | floor)] end;
  (group_by([.path, .c]) | map({path: .[0].path, c: .[0].c, runs: length,
     rps: (map(.rps) | med), p50_ms: (map(.p50_ms) | med), p99_ms: (map(.p99_ms) | med),
     failed: (map(.failed) | add), syn_retrans: (map(.syn_retrans) | add)})) as $s
  | { machine: { kernel: $kernel, cpus: $cpus, loadavg_before: $load_before, loadavg_after: $load_after },
      berth_commit: $commit, method: { requests_per_run: $n, rounds: $rounds, server: "busybox httpd, 1 KiB page",
      client: "ab without keep-alive" },
      summary: $s,
      ratios: [ $s[] | select(.path == "published" or .path == "userland") as $x
                | ($s[] | select(.path == "direct" and .c == $x.c)) as $d
                | { path: $x.path, c: $x.c, rps_vs_direct: ($x.rps / $d.rps), p99_vs_direct: (if $d.p99_ms > 0 then $x.p99_ms / $d.p99_ms else null end),
                    syn_retrans: $x.syn_retrans, direct_syn_retrans: $d.syn_retrans } ],
      runs: . }' "$W/runs.jsonl" >"$out"
jq -r '"path\tc\treq/s\tp50 ms\tp99 ms\tfailed\tSYN retrans",
       (.summary[] | "\(.path)\t\(.c)\t\(.rps)\t\(.p50_ms)\t\(.p99_ms)\t\(.failed)\t\(.syn_retrans)")' "$out" | column -t -s $'\t'
jq -r '"", (.ratios[] | "\(.path) c=\(.c): \(.rps_vs_direct * 100 | round / 100)x direct throughput, p99 \(if .p99_vs_direct then (.p99_vs_direct * 100 | round / 100) else "-" end)x direct, SYN retransmits \(.syn_retrans) (direct \(.direct_syn_retrans))"),
       "", "load average \(.machine.loadavg_before) before, \(.machine.loadavg_after) after"' "$out"
say "results: $out"
