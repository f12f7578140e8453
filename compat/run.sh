#!/usr/bin/env bash
# Compatibility test against the real TypeScript client, @urbackend/sdk 0.4.8.
#
# Builds the server, starts it on a free loopback port with a throw-away
# data directory (embedded database on a free port too), waits for
# /api/health, installs the pinned SDK (npm ci) and runs compat/sdk.test.mjs
# with node:test. The server is always stopped on exit. Exits non-zero on
# any failure; on success the output ends with node:test's summary lines.
set -euo pipefail

compat_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$compat_dir/.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/urbackend-compat.XXXXXX")
server_pid=""

cleanup() {
	local rc=$?
	if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
		kill -TERM "$server_pid" 2>/dev/null || true
		# Graceful shutdown closes the embedded database; give it a moment,
		# then insist.
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

echo "compat: building the server"
(cd "$repo_root" && go build -o "$tmp/urbackend" .)

admin_email="compat-admin@urbackend.test"
admin_password="compat-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"

echo "compat: starting the server"
# UB_ADDR port 0: the kernel picks a free port; the server logs the URL it
# really listens on ("urBackend is listening" url=http://127.0.0.1:PORT).
env -u UB_MASTER_KEY -u UB_PLATFORM_DB -u UB_LOG_LEVEL \
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

base_url=""
for _ in $(seq 1 600); do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "compat: the server exited during start-up" >&2
		dump_server_log
		exit 1
	fi
	base_url=$(sed -n 's/.*msg="urBackend is listening" url=\(http:\/\/[^ ]*\).*/\1/p' "$server_log" | head -n 1)
	[[ -n "$base_url" ]] && break
	sleep 0.1
done
if [[ -z "$base_url" ]]; then
	echo "compat: the server did not report its URL within 60s" >&2
	dump_server_log
	exit 1
fi

healthy=""
for _ in $(seq 1 300); do
	if curl -fsS --max-time 2 "$base_url/api/health" 2>/dev/null | grep -q '"status":"ok"'; then
		healthy=yes
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if [[ -z "$healthy" ]]; then
	echo "compat: $base_url/api/health did not answer ok" >&2
	dump_server_log
	exit 1
fi
echo "compat: server ready at $base_url"

echo "compat: installing @urbackend/sdk"
if [[ -f "$compat_dir/package-lock.json" ]]; then
	(cd "$compat_dir" && npm ci --no-audit --no-fund --loglevel=error)
else
	(cd "$compat_dir" && npm install --no-audit --no-fund --loglevel=error)
fi

echo "compat: running sdk.test.mjs"
test_out="$tmp/test.out"
set +e
UB_COMPAT_URL="$base_url" \
	UB_COMPAT_ADMIN_EMAIL="$admin_email" \
	UB_COMPAT_ADMIN_PASSWORD="$admin_password" \
	node --test-reporter=tap "$compat_dir/sdk.test.mjs" 2>&1 | tee "$test_out"
status=${PIPESTATUS[0]}
set -e

if [[ $status -ne 0 ]]; then
	echo "compat: sdk.test.mjs failed (exit $status)" >&2
	dump_server_log
	# Repeat node:test's summary so the output still ends with it.
	grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$test_out" || true
	exit "$status"
fi
