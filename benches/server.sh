# Sourced by the load scripts: starts the release server on PORT with a fresh API key of ROLE,
# quiet logs, and stops it (and removes its files) when the script exits. Sets `server` (pid),
# `key` and `work` (a scratch directory).
#
#   start_server PORT ROLE
start_server() {
  local port=$1 role=$2 bin=${TARIFFD_BIN:-target/release/tariffd}
  work=$(mktemp -d)
  key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  cat > "$work/tariffd.toml" <<TOML
[log]
filter = "warn"
[database]
url = "sqlite://$work/tariffd.db"
[[auth.keys]]
name = "bench"
sha256 = "$(printf %s "$key" | "$bin" hash-key)"
roles = ["$role"]
TOML
  "$bin" --config "$work/tariffd.toml" serve --port "$port" > "$work/server.log" 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
  until curl -sf "localhost:$port/health/ready" > /dev/null; do
    kill -0 "$server" 2> /dev/null || { cat "$work/server.log" >&2; return 1; }
    sleep 0.1
  done
}
