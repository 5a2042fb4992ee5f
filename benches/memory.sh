#!/usr/bin/env bash
# memory.sh — loadtest's resident memory over one long open-loop cell, printed as it runs.
#
# Starts nginx with the echo module on 127.0.0.1:PORT answering after 10 ms (or uses URL),
# runs one open-loop cell at RATE req/s for DUR seconds, and every EVERY seconds prints each
# binary's VmRSS and VmHWM (peak) from /proc/PID/status and its open sockets (connections:
# a shard keeps one per in-flight slot it ever needed); at the end, RSS at 1, 5 and 10
# minutes (those within DUR) and the growth from the first minute to the end. It prints
# figures; it asserts nothing.
#
#   cargo build --release && bash benches/memory.sh                  # 10 minutes at 2000 req/s
#   DUR=120 EVERY=5 bash benches/memory.sh                           # a quick look
#   LOADTEST_BASE=/tmp/old-loadtest bash benches/memory.sh           # old and new side by side
# Env: LOADTEST (default target/release/loadtest) LOADTEST_BASE (a second binary, run at the
#      same time against the same server) RATE DUR EVERY PORT URL GEN_CPU (taskset list, none
#      by default) SRV_CPU
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADTEST=${LOADTEST:-$HERE/../target/release/loadtest}
LOADTEST_BASE=${LOADTEST_BASE:-}
RATE=${RATE:-2000} DUR=${DUR:-600} EVERY=${EVERY:-10} PORT=${PORT:-18280}
GEN_CPU=${GEN_CPU:-} SRV_CPU=${SRV_CPU:-1} URL=${URL:-}
WORK=$(mktemp -d /tmp/memory-bench.XXXXXX)
PIDS=()

source "$HERE/nginx.sh"
start_nginx() {
  nginx_start --echo "$URL" <<SERVERS
  server { listen 127.0.0.1:$PORT backlog=4096;
    location / { default_type text/plain; echo_sleep 0.010; echo "ok"; } }
SERVERS
}
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2> /dev/null; done
  nginx_stop
  wait 2> /dev/null; rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

if [[ -z $URL ]]; then URL=http://127.0.0.1:$PORT/; start_nginx; fi
cat > "$WORK/memory.toml" <<TOML
name = "memory"
[target]
kind = "http"
url = "$URL"
method = "GET"
timeout = "10s"
[sweep]
payload_sizes = ["0B"]
load = { mode = "open", rates = [$RATE], arrivals = "constant" }
duration = "${DUR}s"
warmup = "0s"
[payload]
source = "random"
TOML

NAMES=(loadtest) BINS=("$LOADTEST")
[[ -n $LOADTEST_BASE ]] && NAMES+=(loadtest-base) && BINS+=("$LOADTEST_BASE")
for i in "${!BINS[@]}"; do
  pin=(); [[ -n $GEN_CPU ]] && pin=(taskset -c "$GEN_CPU")
  "${pin[@]}" "${BINS[$i]}" run "$WORK/memory.toml" --out "$WORK/out-$i" --quiet \
    > "$WORK/${NAMES[$i]}.out" 2> "$WORK/${NAMES[$i]}.err" < /dev/null &
  PIDS+=($!)
done
kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status" 2> /dev/null; }
mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "-"; }

echo "open loop $RATE req/s for ${DUR}s against $URL; VmRSS / VmHWM MiB and sockets every ${EVERY}s"
header="| t s |"; rule="|---|"
for n in "${NAMES[@]}"; do header+=" $n RSS | $n peak | $n sockets |"; rule+="---|---|---|"; done
echo; echo "$header"; echo "$rule"
declare -A AT
start=$(date +%s)
while :; do
  sleep "$EVERY"
  t=$(($(date +%s) - start)); line="| $t |"; alive=0
  for i in "${!PIDS[@]}"; do
    rss=$(kib "${PIDS[$i]}" VmRSS); hwm=$(kib "${PIDS[$i]}" VmHWM)
    [[ -n $rss ]] && alive=1 && AT[$i,$t]=$rss
    socks=$(find "/proc/${PIDS[$i]}/fd" -lname 'socket:*' 2> /dev/null | wc -l)
    line+=" $(mib "$rss") | $(mib "$hwm") | $socks |"
  done
  ((alive)) || break
  echo "$line"
done
wait "${PIDS[@]}" 2> /dev/null
PIDS=()

echo; echo "| binary | RSS at 1 min | 5 min | 10 min | last | last ÷ 1 min |"; echo "|---|---|---|---|---|---|"
for i in "${!NAMES[@]}"; do
  near() { # RSS sampled nearest to $1 seconds
    local best="" bd=1000000 k d
    for k in "${!AT[@]}"; do
      [[ ${k%%,*} == "$i" ]] || continue
      d=$((${k#*,} - $1)); d=${d#-}
      ((d < bd)) && bd=$d && best=${AT[$k]}
    done
    ((bd <= EVERY)) && echo "$best"
  }
  last=$(for k in "${!AT[@]}"; do [[ ${k%%,*} == "$i" ]] && echo "${k#*,} ${AT[$k]}"; done | sort -n | tail -1 | cut -d' ' -f2)
  one=$(near 60)
  ratio=$([[ -n $one && -n $last ]] && awk -v a="$last" -v b="$one" 'BEGIN { printf "%+.1f%%", 100 * (a - b) / b }' || echo "-")
  echo "| ${NAMES[$i]} | $(mib "$one") | $(mib "$(near 300)") | $(mib "$(near 600)") | $(mib "$last") | $ratio |"
  grep -h "error" "$WORK/${NAMES[$i]}.err" | head -3
done
