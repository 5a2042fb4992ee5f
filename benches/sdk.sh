#!/usr/bin/env bash
# sdk.sh — what the `sagemaker` target (through the AWS SDK) costs beside the `http` target,
# on the same loopback endpoint: nginx answering the SageMaker runtime path
# (POST /endpoints/NAME/invocations → 200 "ok") on 127.0.0.1:PORT.
#
# Each run is one closed-loop cell (CONNS connections, a BODY-byte body, DUR seconds), the
# generator pinned to GEN_CPU and nginx to SRV_CPU, under /usr/bin/time -v; it prints per run
# CPU µs/request ((user + sys) ÷ responses), req/s and peak RSS, then the medians and the
# sagemaker ÷ http ratio. The SDK uses dummy credentials (AWS_ACCESS_KEY_ID=AKIDBENCH).
# PERF=1 also records each target's last repetition with `perf record -g` and prints the
# top symbols (perf.data files are left in OUT). It prints figures; it asserts nothing.
#
#   cargo build --release && bash benches/sdk.sh
# Env: LOADTEST (default target/release/loadtest) LOADTEST_BASE (another binary, run as
#      `http-base`/`sagemaker-base`, interleaved) REPS DUR CONNS BODY GEN_CPU SRV_CPU PORT
#      PERF OUT (default: a temporary folder, removed unless PERF=1)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LOADTEST=${LOADTEST:-$HERE/../target/release/loadtest}
LOADTEST_BASE=${LOADTEST_BASE:-}
REPS=${REPS:-3} DUR=${DUR:-10} CONNS=${CONNS:-50} BODY=${BODY:-16}
GEN_CPU=${GEN_CPU:-0} SRV_CPU=${SRV_CPU:-1} PORT=${PORT:-18282} PERF=${PERF:-0}
WORK=${OUT:-$(mktemp -d /tmp/sdk-bench.XXXXXX)}
mkdir -p "$WORK"

source "$HERE/nginx.sh"
start_nginx() {
  nginx_start "http://127.0.0.1:$PORT/endpoints/bench/invocations" -X POST -d x <<SERVERS
  client_body_buffer_size 1m;
  server { listen 127.0.0.1:$PORT backlog=4096;
    location / { default_type application/json; return 200 "ok"; } }
SERVERS
}
stop_nginx() {
  nginx_stop; wait 2> /dev/null
  [[ $PERF == 1 || -n ${OUT:-} ]] || rm -rf "$WORK"
}
trap stop_nginx EXIT INT TERM

profile() { # target kind -> profile file
  local target
  case $1 in
    http) target="kind = \"http\"
url = \"http://127.0.0.1:$PORT/endpoints/bench/invocations\"
method = \"POST\"" ;;
    sagemaker) target="kind = \"sagemaker\"
region = \"us-east-1\"
endpoint_url = \"http://127.0.0.1:$PORT\"
endpoint = \"bench\"" ;;
  esac
  cat > "$WORK/$1.toml" <<TOML
name = "sdk-$1"
[target]
$target
timeout = "10s"
[sweep]
payload_sizes = ["${BODY}B"]
load = { mode = "closed", concurrency = [$CONNS] }
duration = "${DUR}s"
warmup = "0s"
[payload]
source = "random"
TOML
  echo "$WORK/$1.toml"
}

row() { # label prefix -> "label cpu_us rps rss"
  python3 - "$@" <<'PY'
import csv, glob, re, sys
label, pre = sys.argv[1:3]
t = open(pre + ".time").read()
g = lambda k: float(re.search(re.escape(k) + r":\s*([\d.]+)", t).group(1))
cpu = g("User time (seconds)") + g("System time (seconds)")
rss = g("Maximum resident set size (kbytes)") / 1024
x = list(csv.DictReader(open(sorted(glob.glob(pre + ".d/*/results.csv"))[-1])))[0]
n = int(x["ok"]); errors = int(x["errors"])
print(label, "%.1f" % (cpu * 1e6 / max(n, 1)), "%.0f" % float(x["throughput_rps"]), "%.1f" % rss, errors)
PY
}

export AWS_ACCESS_KEY_ID=AKIDBENCH AWS_SECRET_ACCESS_KEY=bench-secret AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
start_nginx
HTTP=$(profile http) SM=$(profile sagemaker)
RUNS=("http $LOADTEST $HTTP" "sagemaker $LOADTEST $SM")
[[ -n $LOADTEST_BASE ]] && RUNS+=("http-base $LOADTEST_BASE $HTTP" "sagemaker-base $LOADTEST_BASE $SM")
echo "loadtest: $LOADTEST; $REPS reps of ${DUR}s, closed c=$CONNS, ${BODY} B body; CPU $GEN_CPU, nginx CPU $SRV_CPU"
echo
echo "| run | target | CPU µs/request | req/s | peak RSS MiB | errors |"
echo "|---|---|---|---|---|---|"
: > "$WORK/rows"
for rep in $(seq "$REPS"); do
  for run in "${RUNS[@]}"; do
    read -r label bin prof <<< "$run"
    pre=$WORK/$label-$rep
    perf=()
    [[ $PERF == 1 && $rep == "$REPS" ]] && perf=(/usr/bin/perf record -g -F 1999 -o "$WORK/$label.perf.data" --)
    /usr/bin/time -v -o "$pre.time" taskset -c "$GEN_CPU" "${perf[@]}" "$bin" run "$prof" --out "$pre.d" --quiet \
      > "$pre.out" 2> "$pre.err" < /dev/null
    if r=$(row "$label" "$pre" 2> /dev/null); then
      echo "$r" >> "$WORK/rows"
      read -r l cpu rps rss err <<< "$r"
      echo "| $rep | $l | $cpu | $rps | $rss | $err |"
    else
      echo "| $rep | $label | failed: $(tail -1 "$pre.err") |"
    fi
    sleep 1
  done
done
echo
python3 - "$WORK/rows" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    l, cpu, rps, rss, _ = line.split()
    rows.setdefault(l, []).append((float(cpu), float(rps), float(rss)))
med = {l: [statistics.median(c) for c in zip(*v)] for l, v in rows.items()}
print("| target | median CPU µs/request | median req/s | median peak RSS MiB |")
print("|---|---|---|---|")
for l, (cpu, rps, rss) in med.items():
    print("| %s | %.1f | %.0f | %.1f |" % (l, cpu, rps, rss))
for suffix in ("", "-base"):
    if "http" + suffix in med and "sagemaker" + suffix in med:
        print("\nsagemaker%s ÷ http%s CPU per request: %.2f×" % (suffix, suffix, med["sagemaker" + suffix][0] / med["http" + suffix][0]))
PY
if [[ $PERF == 1 ]]; then
  for label in http sagemaker; do
    echo; echo "## perf: $label (self time, top 25 symbols; $WORK/$label.perf.data)"
    /usr/bin/perf report -i "$WORK/$label.perf.data" --no-children --sort dso,symbol -g none --stdio 2> /dev/null \
      | grep '%' | head -25 | cut -c1-150
  done
fi
