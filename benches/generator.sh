#!/usr/bin/env bash
# generator.sh — loadtest's own cost as a load generator, beside wrk/wrk2/oha when installed.
#
# Starts nginx (worker_processes 1, pinned to SRV_CPU) on loopback ports of its own, runs each
# generator pinned to GEN_CPU under /usr/bin/time -v, and prints per run: CPU µs/request
# ((user + sys) ÷ responses), req/s, peak RSS, and for B the rate error and p50/p99.
#   A: closed loop, CONNS connections, tiny body (/ok)
#   B: open loop RATE req/s against a 10 ms server (nginx echo module)
#   C: closed loop, CONNS connections, a 64 KiB file
# It prints figures; it asserts nothing. Peer tools: `bash ../shared/bench/peers.sh install`
# (wrk from apt, wrk2 and oha under /tmp/bench); nginx-light + libnginx-mod-http-echo from apt.
#
#   cargo build --release && bash benches/generator.sh            # or: cargo bench --bench generator
# After the runs it prints the median of each column per scenario and tool.
# Env: LOADTEST (default target/release/loadtest) REPS DUR CONNS RATE GEN_CPU SRV_CPU PORT
#      SCENARIOS ("A B C") TOOLS ("loadtest wrk wrk2 oha"; missing ones are skipped)
#      LOADTEST_BASE: another loadtest binary, run as tool `loadtest-base` (old vs new,
#      interleaved in each repetition)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADTEST=${LOADTEST:-$HERE/../target/release/loadtest}
REPS=${REPS:-3} DUR=${DUR:-10} CONNS=${CONNS:-50} RATE=${RATE:-2000}
GEN_CPU=${GEN_CPU:-0} SRV_CPU=${SRV_CPU:-1} PORT=${PORT:-18180}
SCENARIOS=${SCENARIOS:-"A B C"} TOOLS=${TOOLS:-"loadtest wrk wrk2 oha"}
LOADTEST_BASE=${LOADTEST_BASE:-}
WRK=${WRK:-$(command -v wrk)} WRK2=${WRK2:-/tmp/bench/wrk2/wrk} OHA=${OHA:-/tmp/bench/oha/bin/oha}
WORK=$(mktemp -d /tmp/generator-bench.XXXXXX)
DPORT=$((PORT + 1))
OK=http://127.0.0.1:$PORT/ok K64=http://127.0.0.1:$PORT/64k DELAY=http://127.0.0.1:$DPORT/

source "$HERE/nginx.sh"
start_nginx() {
  mkdir -p "$WORK"/{logs,html,tmp}
  head -c 65536 /dev/urandom > "$WORK/html/64k.bin"
  chmod -R a+rX "$WORK"   # nginx's workers run as another user
  nginx_start --echo "$OK" <<SERVERS
  default_type application/octet-stream; sendfile on;
  server { listen 127.0.0.1:$PORT backlog=4096; root $WORK/html;
    location = /ok  { default_type text/plain; return 200 "ok"; }
    location = /64k { try_files /64k.bin =404; } }
  server { listen 127.0.0.1:$DPORT backlog=4096;
    location / { default_type text/plain; echo_sleep 0.010; echo "ok"; } }
SERVERS
}
stop_nginx() { nginx_stop; wait 2> /dev/null; rm -rf "$WORK"; }
trap stop_nginx EXIT INT TERM

profile() { # scenario -> loadtest profile
  local url load
  case $1 in
    A) url=$OK;    load="{ mode = \"closed\", concurrency = [$CONNS] }" ;;
    B) url=$DELAY; load="{ mode = \"open\", rates = [$RATE], arrivals = \"constant\" }" ;;
    C) url=$K64;   load="{ mode = \"closed\", concurrency = [$CONNS] }" ;;
  esac
  cat > "$WORK/lt-$1.toml" <<TOML
name = "generator-$1"
[target]
kind = "http"
url = "$url"
method = "GET"
timeout = "10s"
[sweep]
payload_sizes = ["0B"]
load = $load
duration = "${DUR}s"
warmup = "0s"
[payload]
source = "random"
TOML
}

command_for() { # scenario tool out-prefix -> command line, or nothing when not applicable
  local url; case $1 in A) url=$OK ;; B) url=$DELAY ;; C) url=$K64 ;; esac
  case $1:$2 in
    *:loadtest) [[ -x $LOADTEST ]] && echo "$LOADTEST run $WORK/lt-$1.toml --out $3.d --quiet" ;;
    *:loadtest-base) [[ -x $LOADTEST_BASE ]] && echo "$LOADTEST_BASE run $WORK/lt-$1.toml --out $3.d --quiet" ;;
    A:wrk|C:wrk) [[ -x $WRK ]] && echo "$WRK -t1 -c$CONNS -d${DUR}s --latency $url" ;;
    A:wrk2)      [[ -x $WRK2 ]] && echo "$WRK2 -t1 -c$CONNS -d${DUR}s -R10000000 --latency $url" ;;
    B:wrk2)      [[ -x $WRK2 ]] && echo "$WRK2 -t1 -c$CONNS -d${DUR}s -R$RATE --latency $url" ;;
    A:oha|C:oha) [[ -x $OHA ]] && echo "$OHA -c $CONNS -z ${DUR}s --no-tui --output-format json $url" ;;
    B:oha)       [[ -x $OHA ]] && echo "$OHA -c $CONNS -z ${DUR}s -q $RATE --latency-correction --no-tui --output-format json $url" ;;
  esac
}

parse() { # scenario tool prefix -> one row
  python3 - "$@" <<'PY'
import csv, glob, json, re, sys
sc, tool, pre = sys.argv[1:4]
t = open(pre + ".time").read()
g = lambda k: float(re.search(re.escape(k) + r":\s*([\d.]+)", t).group(1))
cpu = g("User time (seconds)") + g("System time (seconds)"); rss = g("Maximum resident set size (kbytes)") / 1024
o = open(pre + ".out", errors="replace").read()
ms = lambda v, u: float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[u]
p50 = p99 = None
if tool.startswith("loadtest"):
    x = list(csv.DictReader(open(sorted(glob.glob(pre + ".d/*/results.csv"))[-1])))[0]
    n = int(x["ok"]); rps = float(x["achieved_rps"] or x["throughput_rps"]); p50 = float(x["p50_ms"]); p99 = float(x["p99_ms"])
elif tool in ("wrk", "wrk2"):
    n = int(re.search(r"(\d+) requests in", o).group(1)); rps = float(re.search(r"Requests/sec:\s*([\d.]+)", o).group(1))
    blk = o.split("Latency Distribution")[1] if "Latency Distribution" in o else o
    pc = {m.group(1): ms(m.group(2), m.group(3))
          for m in re.finditer(r"^\s*(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", blk, re.M)}
    p50, p99 = pc.get("50"), pc.get("99")
else:
    j = json.loads(o); n = sum(j.get("statusCodeDistribution", {}).values()); rps = j["summary"]["requestsPerSec"]
    p50 = j["latencyPercentiles"]["p50"] * 1e3; p99 = j["latencyPercentiles"]["p99"] * 1e3
f = lambda v, d=2: "-" if v is None else ("%.*f" % (d, v))
rate = float(sys.argv[4])
err = "%+.2f%%" % (100 * (rps - rate) / rate) if sc == "B" else "-"
print("| %s | %s | %s | %s | %s | %s | %s / %s |" % (sc, tool, f(cpu * 1e6 / max(n, 1), 1), f(rps, 0), f(rss, 1), err, f(p50), f(p99)))
PY
}

start_nginx
for sc in $SCENARIOS; do profile "$sc"; done
echo "loadtest: $LOADTEST; $REPS reps of ${DUR}s; generator on CPU $GEN_CPU, nginx on CPU $SRV_CPU"
echo
echo "| scenario | tool | CPU µs/request | req/s | peak RSS MiB | rate error | p50 / p99 ms |"
echo "|---|---|---|---|---|---|---|"
for rep in $(seq "$REPS"); do
  for sc in $SCENARIOS; do
    for tool in $TOOLS; do
      pre=$WORK/$sc-$tool-$rep
      cmd=$(command_for "$sc" "$tool" "$pre") || continue
      [[ -n $cmd ]] || continue
      # shellcheck disable=SC2086
      /usr/bin/time -v -o "$pre.time" taskset -c "$GEN_CPU" $cmd > "$pre.out" 2> "$pre.err" < /dev/null
      { parse "$sc" "$tool" "$pre" "$RATE" 2> /dev/null || echo "| $sc | $tool | failed: $(tail -1 "$pre.err") |"; } | tee -a "$WORK/rows"
      sleep 1
    done
  done
done
# Medians over the repetitions, per scenario and tool (each column on its own).
echo
echo "Medians of $REPS:"
echo
echo "| scenario | tool | CPU µs/request | req/s | peak RSS MiB | rate error | p50 / p99 ms |"
echo "|---|---|---|---|---|---|---|"
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    c = [x.strip() for x in line.strip().strip("|").split("|")]
    if len(c) != 7:
        continue
    p50, _, p99 = c[6].partition(" / ")
    rows.setdefault((c[0], c[1]), []).append([c[2], c[3], c[4], c[5].rstrip("%"), p50, p99])
def med(vals, fmt):
    try:
        return fmt % statistics.median(float(v) for v in vals)
    except ValueError:
        return "-"
for (sc, tool), rs in rows.items():
    col = lambda i: [r[i] for r in rs]
    err = med(col(3), "%+.2f%%")
    print("| %s | %s | %s | %s | %s | %s | %s / %s |" % (sc, tool, med(col(0), "%.1f"), med(col(1), "%.0f"),
          med(col(2), "%.1f"), err, med(col(4), "%.2f"), med(col(5), "%.2f")))
PY
