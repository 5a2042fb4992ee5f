# nginx.sh — the loopback nginx the bench scripts measure against. Sourced, not run: the
# caller sets WORK (its temporary folder) and SRV_CPU (the CPU list nginx is pinned to).
#
#   nginx_start [--echo] PROBE_URL [CURL_ARGS...] <<SERVERS
#     writes $WORK/nginx.conf (one worker, no access log, long keep-alive, logs and temp
#     files under WORK; the echo module loaded with --echo) with the lines on stdin (the
#     server blocks) inside its http block, starts nginx in the background (its pid in
#     NGINX) and returns once `curl -sf CURL_ARGS PROBE_URL` answers; after 5 s it prints
#     nginx's stderr and exits 1.
#   nginx_stop
#     ends it (the caller waits and removes WORK as it needs).

nginx_start() {
  local load="" needs="nginx-light"
  if [[ $1 == --echo ]]; then
    load="load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;"
    needs+=" + libnginx-mod-http-echo"
    shift
  fi
  local probe=$1 servers
  shift
  servers=$(cat)
  mkdir -p "$WORK"/{logs,tmp}
  cat > "$WORK/nginx.conf" <<CONF
$load
worker_processes 1;
daemon off;
pid $WORK/logs/nginx.pid;
error_log $WORK/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 10000000; keepalive_timeout 60s;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
$servers
}
CONF
  taskset -c "$SRV_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" 2> "$WORK/nginx.err" &
  NGINX=$!
  for _ in $(seq 50); do curl -sf "$@" "$probe" > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "nginx did not start (is $needs installed?)" >&2
  cat "$WORK/nginx.err" >&2; exit 1
}

nginx_stop() { if [[ -n ${NGINX:-} ]]; then kill "$NGINX" 2> /dev/null; fi; }
