#!/usr/bin/env bash
# End-to-end browser tests of the dashboard (/dashboard), in Debian's
# headless Chromium (/usr/bin/chromium) driven by playwright-core.
#
# Builds the server, starts it on a free loopback port with a throw-away
# data directory (embedded database on a free port too), a known admin
# password and rate limits off, waits for /api/health, installs the pinned
# playwright-core (npm ci) and runs e2e/dashboard.test.mjs with node:test.
# The server is always stopped on exit. Screenshots of failed steps go to
# e2e/screenshots/. Exits non-zero on any failure.
set -euo pipefail

e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$e2e_dir/.." && pwd)

if [[ ! -x /usr/bin/chromium ]]; then
	echo "e2e: /usr/bin/chromium is missing: apt-get install chromium" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/urbackend-e2e.XXXXXX")
server_pid=""

cleanup() {
	local rc=$?
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		for _ in $(seq 1 100); do
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log="$tmp/server.log"
dump_server_log() {
	echo "---- server log (last 60 lines) ----" >&2
	tail -n 60 "$server_log" >&2 || true
	echo "------------------------------------" >&2
}

echo "e2e: building the server"
(cd "$repo_root" && go build -o "$tmp/urbackend" .)

admin_email="e2e-admin@urbackend.test"
admin_password="e2e-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

echo "e2e: starting the server"
env -u UB_MASTER_KEY -u UB_PLATFORM_DB -u UB_LOG_LEVEL -u UB_ACCESS_TOKEN_TTL -u UB_REFRESH_TOKEN_TTL \
	UB_ADDR=127.0.0.1:0 \
	UB_DATA_DIR="$tmp/data" \
	UB_EMBEDDED_DB_ADDR=127.0.0.1:0 \
	UB_ADMIN_EMAIL="$admin_email" \
	UB_ADMIN_PASSWORD="$admin_password" \
	UB_RATE_LIMIT_PER_MINUTE=0 \
	UB_PUBLIC_URL="" \
	UB_MONGODB_URI="" \
	"$tmp/urbackend" serve >"$tmp/server.out" 2>"$server_log" &
server_pid=$!

# The server logs the URL it really listens on (port 0: a free one).
base_url=""
for _ in $(seq 1 600); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "e2e: the server exited during start-up" >&2
		dump_server_log
		exit 1
	fi
	base_url=$(sed -n 's/.*msg="urBackend is listening" url=\(http:\/\/[^ ]*\).*/\1/p' "$server_log" | head -n 1)
	[[ -n "$base_url" ]] && break
	sleep 0.1
done
if [[ -z "$base_url" ]]; then
	echo "e2e: the server did not report its URL within 60s" >&2
	dump_server_log
	exit 1
fi
ready=""
for _ in $(seq 1 300); do
	if curl -fsS --max-time 2 "$base_url/api/health" 2>/dev/null | grep -q '"status":"ok"'; then
		ready=1
		break
	fi
	sleep 0.1
done
if [[ -z "$ready" ]]; then
	echo "e2e: $base_url/api/health did not answer ok" >&2
	dump_server_log
	exit 1
fi
echo "e2e: server ready at $base_url"

echo "e2e: installing playwright-core"
(cd "$e2e_dir" && npm ci --no-audit --no-fund --loglevel=error)

echo "e2e: running dashboard.test.mjs"
set +e
UB_E2E_URL="$base_url" \
	UB_E2E_ADMIN_EMAIL="$admin_email" \
	UB_E2E_ADMIN_PASSWORD="$admin_password" \
	node "$e2e_dir/dashboard.test.mjs"
status=$?
set -e
if [[ $status -ne 0 ]]; then
	echo "e2e: the dashboard tests failed (exit $status); screenshots in e2e/screenshots/" >&2
	dump_server_log
	exit "$status"
fi
