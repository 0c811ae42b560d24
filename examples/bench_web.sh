#!/bin/bash
# The web server benchmark quoted in README.md ("Performance"): latency of /healthz, the
# verdict page and the verdict API in one server run (wrk, 16 connections, 10 s each), then
# resident memory idle, after four 15 s bursts of 16 connections, and 15 s later.
# Needs wrk and a database filled as README.md says (the seed report, 2023's real prices):
#   examples/bench_web.sh target/release/ratingwatch /tmp/perf.db [PORT]
set -eu
B=$1; DB=$2; P=${3:-8321}
RATINGWATCH__HTTP__LISTEN=127.0.0.1:$P "$B" --db "$DB" web > /dev/null 2>&1 &
PID=$!
trap 'kill $PID' EXIT
sleep 2
R=http://127.0.0.1:$P
V="$R/reports/zheshang-2023-02-14-chatgpt?as_of=2023-12-31"
A="$R/api/v1/reports/zheshang-2023-02-14-chatgpt/verdict?as_of=2023-12-31"
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$PID/status; }
curl -s -o /dev/null "$V"; curl -s -o /dev/null "$A"
echo "idle: $(rss)"
OUT=$(mktemp)
for u in "$R/healthz" "$V" "$A"; do
  wrk -t2 -c16 -d10s --latency "$u" > "$OUT"
  echo "$u: p50 $(awk '$1 == "50%" {print $2}' "$OUT"), p99 $(awk '$1 == "99%" {print $2}' "$OUT"), $(awk '/Requests\/sec/ {print $2}' "$OUT") req/s"
done
for i in 1 2 3 4; do
  if [ $((i % 2)) = 1 ]; then u=$V; else u=$A; fi
  wrk -t2 -c16 -d15s "$u" > "$OUT"
  echo "after burst $i: $(rss)"
done
sleep 15
echo "15 s later: $(rss)"
rm -f "$OUT"
