#!/usr/bin/env bash
# Compatibility test against the real TypeScript client, @urbackend/sdk 0.4.8,
# and of the per-project GraphQL API against graphql 16.15.0 and graphql-ws 6.4.2.
#
# Builds the server, starts it on a free loopback port with a throw-away
# data directory (embedded database on a free port too), waits for
# /api/health, then starts a second instance on the same database (same
# master key) whose access tokens live only 2 seconds, so that
# compat/auth.test.mjs can hold a really expired access token and watch the
# SDK's silent refresh-and-retry. Installs the pinned SDK and GraphQL
# clients (npm ci) and runs compat/sdk.test.mjs, then compat/auth.test.mjs,
# then compat/storage.test.mjs (files through the SDK's storage module),
# then compat/graphql.test.mjs (the per-project GraphQL API through
# graphql-js, fetch and graphql-ws), with node:test. The servers are
# always stopped on exit. Exits non-zero on any failure; on success the
# output ends with node:test's summary lines.
set -euo pipefail

compat_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$compat_dir/.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/urbackend-compat.XXXXXX")
server_pid=""
short_pid=""

stop_server() {
	local pid=$1
	if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		# Graceful shutdown closes the embedded database; give it a moment,
		# then insist.
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
}

cleanup() {
	local rc=$?
	# The short-lived-token instance uses the main one's embedded database:
	# stop it first.
	stop_server "$short_pid"
	stop_server "$server_pid"
	rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

server_log="$tmp/server.log"
short_log="$tmp/server-short.log"

dump_server_log() {
	local log=${1:-$server_log}
	echo "---- server log $(basename "$log") (last 60 lines) ----" >&2
	tail -n 60 "$log" >&2 || true
	echo "------------------------------------" >&2
}

# wait_ready PID LOG: waits until the server PID logs the URL it listens
# on and answers /api/health; prints the URL.
wait_ready() {
	local pid=$1 log=$2 url=""
	for _ in $(seq 1 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "compat: the server exited during start-up" >&2
			dump_server_log "$log"
			return 1
		fi
		url=$(sed -n 's/.*msg="urBackend is listening" url=\(http:\/\/[^ ]*\).*/\1/p' "$log" | head -n 1)
		[[ -n "$url" ]] && break
		sleep 0.1
	done
	if [[ -z "$url" ]]; then
		echo "compat: the server did not report its URL within 60s" >&2
		dump_server_log "$log"
		return 1
	fi
	for _ in $(seq 1 300); do
		if curl -fsS --max-time 2 "$url/api/health" 2>/dev/null | grep -q '"status":"ok"'; then
			echo "$url"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "compat: $url/api/health did not answer ok" >&2
	dump_server_log "$log"
	return 1
}

echo "compat: building the server"
(cd "$repo_root" && go build -o "$tmp/urbackend" .)

admin_email="compat-admin@urbackend.test"
admin_password="compat-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

echo "compat: starting the server"
# UB_ADDR port 0: the kernel picks a free port; the server logs the URL it
# really listens on ("urBackend is listening" url=http://127.0.0.1:PORT).
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

base_url=$(wait_ready "$server_pid" "$server_log")
echo "compat: server ready at $base_url"

# A second instance on the same platform database: same master key, so it
# reads the same projects, JWT secrets and refresh sessions; its access
# tokens expire after 2 seconds (the main instance keeps the default 15m).
db_uri=$(sed -n 's/.*msg="embedded database started" uri=\([^ ]*\).*/\1/p' "$server_log" | head -n 1)
if [[ -z "$db_uri" ]]; then
	echo "compat: the server did not log its embedded database URI" >&2
	dump_server_log
	exit 1
fi
echo "compat: starting a second instance with 2s access tokens"
env -u UB_PLATFORM_DB -u UB_LOG_LEVEL -u UB_EMBEDDED_DB_ADDR -u UB_REFRESH_TOKEN_TTL \
	UB_ADDR=127.0.0.1:0 \
	UB_DATA_DIR="$tmp/data-short" \
	UB_MONGODB_URI="$db_uri" \
	UB_MASTER_KEY="$(tr -d ' \n' <"$tmp/data/master.key")" \
	UB_ADMIN_EMAIL="$admin_email" \
	UB_ADMIN_PASSWORD="$admin_password" \
	UB_RATE_LIMIT_PER_MINUTE=0 \
	UB_PUBLIC_URL="" \
	UB_ACCESS_TOKEN_TTL=2s \
	"$tmp/urbackend" serve >"$tmp/server-short.out" 2>"$short_log" &
short_pid=$!
short_url=$(wait_ready "$short_pid" "$short_log")
echo "compat: second instance ready at $short_url"

echo "compat: installing @urbackend/sdk, graphql, graphql-ws and ws"
if [[ -f "$compat_dir/package-lock.json" ]]; then
	(cd "$compat_dir" && npm ci --no-audit --no-fund --loglevel=error)
else
	(cd "$compat_dir" && npm install --no-audit --no-fund --loglevel=error)
fi

echo "compat: running sdk.test.mjs, auth.test.mjs, storage.test.mjs and graphql.test.mjs"
test_out="$tmp/test.out"
set +e
# One node:test run: the files one after the other, in this order, with
# one summary.
UB_COMPAT_URL="$base_url" \
	UB_COMPAT_SHORT_TTL_URL="$short_url" \
	UB_COMPAT_ADMIN_EMAIL="$admin_email" \
	UB_COMPAT_ADMIN_PASSWORD="$admin_password" \
	node "$compat_dir/run-tests.mjs" "$compat_dir/sdk.test.mjs" "$compat_dir/auth.test.mjs" "$compat_dir/storage.test.mjs" "$compat_dir/graphql.test.mjs" 2>&1 | tee "$test_out"
status=${PIPESTATUS[0]}
set -e

if [[ $status -ne 0 ]]; then
	echo "compat: the client tests failed (exit $status)" >&2
	dump_server_log
	dump_server_log "$short_log"
	# Repeat node:test's summary so the output still ends with it.
	grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$test_out" || true
	exit "$status"
fi
