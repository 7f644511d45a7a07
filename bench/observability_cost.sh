#!/usr/bin/env bash
# Benchmark: what Prometheus metrics and OpenTelemetry traces cost the task API's
# authenticated list read (GET /api/tasks with a valid JWT), in three modes alternated
# ROUNDS times in the same run, the server pinned to one core:
#   off      neither (no RESOURCE_API_METRICS_BIND, no OTEL_EXPORTER_OTLP_ENDPOINT)
#   metrics  a metrics listener: every request counted and timed
#   traced   metrics, and every request traced (server span, database span) and exported
#            over OTLP/HTTP to bench/otlp_sink.py on the load core, sampler always on
#   sampled  the same with one trace in ten kept (OTEL_TRACES_SAMPLER=parentbased_traceidratio,
#            OTEL_TRACES_SAMPLER_ARG=0.1), as a busy deployment would run it
# Target (issue 15): each costs under 3 % of the read rate. Prints an excerpt of /metrics
# after the last round and what the sink received.
#
#   bash bench/observability_cost.sh
#   BACKENDS="sqlite postgres" ROUNDS=3 DURATION=10s bash bench/observability_cost.sh
source "$(dirname "$0")/lib.sh"

need wrk wrk
need curl curl
need taskset util-linux
build_release

BACKENDS=${BACKENDS:-sqlite}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18080}
API_PORT=$((PORT + 1))
METRICS_PORT=$((PORT + 3))
SINK_PORT=$((PORT + 4))
MODES=${MODES:-off metrics traced sampled}
VERIFIER=bench-verifier-0123456789abcdef0123456789abcdef0123456789
CHALLENGE=$(pkce_challenge "$VERIFIER")
TICKS=$(getconf CLK_TCK)

taskset -c "$LOAD_CPU" python3 "$ROOT/bench/otlp_sink.py" "$SINK_PORT" &
PIDS+=($!)
wait_for "http://127.0.0.1:$SINK_PORT/count" otlp-sink /dev/null

printf '%-9s %-7s %5s %10s %9s %12s %8s\n' backend mode round "req/s" "p99 ms" "CPU us/req" errors

for backend in $BACKENDS; do
  url=$(fresh_database "$backend")
  export DATABASE_URL=$url RUST_LOG=error
  "$BIN/auth-server" migrate >/dev/null
  printf '%s' "$BENCH_PASSWORD" | "$BIN/auth-server" users create --username bench --email bench@example.com >/dev/null
  web=$("$BIN/auth-server" clients create --name Web --redirect-uri "$BENCH_REDIRECT" --first-party)
  web_id=$(json_field client_id <<<"$web")
  web_secret=$(json_field client_secret <<<"$web")
  # The auth-server only issues the token and serves the JWKS: it runs on the load core.
  SERVER_CPU=$LOAD_CPU start_auth_server "$url" "$PORT"
  auth="http://127.0.0.1:$PORT"
  jar="$WORK/cookies-$backend"
  sign_in "$auth" "$jar" bench "$BENCH_PASSWORD"
  code=$(authorization_code "$jar" "$auth/authorize?response_type=code&client_id=$web_id&code_challenge=$CHALLENGE&code_challenge_method=S256")
  token=$(curl -s -u "$web_id:$web_secret" -d grant_type=authorization_code -d "code=$code" \
    -d "code_verifier=$VERIFIER" "$auth/token" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
  api="http://127.0.0.1:$API_PORT"

  declare -A total_rps=([off]=0 [metrics]=0 [traced]=0 [sampled]=0) total_cpu=([off]=0 [metrics]=0 [traced]=0 [sampled]=0)
  for round in $(seq 1 "$ROUNDS"); do
    for mode in $MODES; do
      case $mode in
        off) start_resource_api "$url" "$API_PORT" "$auth/jwks.json" ;;
        metrics) RESOURCE_API_METRICS_BIND="127.0.0.1:$METRICS_PORT" start_resource_api "$url" "$API_PORT" "$auth/jwks.json" ;;
        traced)
          read -r exports_before _ < <(curl -s "http://127.0.0.1:$SINK_PORT/count")
          RESOURCE_API_METRICS_BIND="127.0.0.1:$METRICS_PORT" \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
            start_resource_api "$url" "$API_PORT" "$auth/jwks.json" ;;
        sampled)
          read -r exports_before _ < <(curl -s "http://127.0.0.1:$SINK_PORT/count")
          RESOURCE_API_METRICS_BIND="127.0.0.1:$METRICS_PORT" \
            OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$SINK_PORT" \
            OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.1 \
            start_resource_api "$url" "$API_PORT" "$auth/jwks.json" ;;
      esac
      if [ "$round" = 1 ] && [ "$mode" = off ]; then
        for i in $(seq 1 50); do
          curl -s -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d "{\"title\":\"task $i\",\"priority\":$(( i % 5 + 1 ))}" "$api/api/tasks"
        done
      fi
      # Warm up, then measure the API process's CPU over the load.
      DURATION=2s load "$api/api/tasks" -H "Authorization: Bearer $token" >/dev/null
      before=$(cpu_ticks "$API_PID")
      read -r rps _ p99 bad requests < <(load "$api/api/tasks" -H "Authorization: Bearer $token")
      after=$(cpu_ticks "$API_PID")
      cpu_us=$(awk -v t=$((after - before)) -v hz="$TICKS" -v n="$requests" \
        'BEGIN { printf "%.0f", n ? t * 1e6 / hz / n : 0 }')
      printf '%-9s %-7s %5s %10s %9s %12s %8s\n' "$backend" "$mode" "$round" "$rps" "$p99" "$cpu_us" "$bad"
      total_rps[$mode]=$(awk -v a="${total_rps[$mode]}" -v b="$rps" 'BEGIN { print a + b }')
      total_cpu[$mode]=$(awk -v a="${total_cpu[$mode]}" -v b="$cpu_us" 'BEGIN { print a + b }')
      if [ "$mode" = metrics ] && [ "$round" = "$ROUNDS" ]; then
        curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics-$backend.txt"
      fi
      kill "$API_PID"; wait "$API_PID" 2>/dev/null || true
      if [ "$mode" = traced ] || [ "$mode" = sampled ]; then
        # SIGTERM flushed the last batch: the spans must have reached the sink.
        read -r exports_after bytes < <(curl -s "http://127.0.0.1:$SINK_PORT/count")
        if [ "$exports_after" -le "$exports_before" ]; then
          echo "bench: no trace export reached the sink in round $round" >&2
          exit 1
        fi
      fi
    done
  done
  for mode in $MODES; do
    [ "$mode" = off ] && continue
    awk -v on="${total_rps[$mode]}" -v off="${total_rps[off]}" -v con="${total_cpu[$mode]}" -v coff="${total_cpu[off]}" -v b="$backend" -v m="$mode" \
      'BEGIN { printf "%-9s %-7s = %.3fx the read rate of off, %.3fx its CPU per request (target: rate >= 0.97x)\n", b, m, on / off, con / coff }'
  done
  echo "--- the OTLP sink received (exports, bytes): $(curl -s "http://127.0.0.1:$SINK_PORT/count")"
  echo "--- /metrics excerpt after the last round ($backend)"
  grep -E '^(http_request_duration_seconds_(count|sum)\{.*/api/tasks"|db_pool|jwks_fetches_total|revocation_mirror_lag|rate_limit_refusals_total|audit_)' \
    "$WORK/metrics-$backend.txt" | head -20 || true

  stop_servers
  drop_database "$url"
done
