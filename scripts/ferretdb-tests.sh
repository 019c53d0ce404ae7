#!/usr/bin/env bash
# The MongoDB compatibility suite (vitest project dev-mongo) and the users-api integration tests
# run against FerretDB v1 on the machine's PostgreSQL: a second, real MongoDB-compatible engine
# besides mongo-lite. Called by scripts/test-all.sh; runs on its own too:
#   bash scripts/ferretdb-tests.sh
# Steps, each timed:
#   1. build FerretDB once per machine from its Go module (Go 1.22+ and the Go module proxy)
#      into ${USERS_AUTH_TOOLS:-~/.cache/users-auth/tools}/ferretdb-<version>/ferretdb;
#   2. drop and recreate the PostgreSQL database $FERRETDB_PG_DATABASE (users_auth_ferretdb)
#      on $FERRETDB_PG_URL (postgres://postgres@127.0.0.1:5432, trust auth), touching no other;
#   3. start FerretDB on a free loopback port and wait until it answers ping;
#   4. run the compatibility suite with MONGODB_URI pointing at it (it must pass: it asserts
#      FerretDB's known gaps, see packages/dev-mongo/test/compat/known-gaps.ts);
#   5. start users-api on it (pnpm start) and, if it turns ready, run the users-api integration
#      tests there too (reported; gating only with FERRETDB_USERS_API_GATING=1);
#   6. stop FerretDB and drop the database.
# Exits with the tests' status. FERRETDB_LOG (default: a temporary file) keeps FerretDB's log.
set -euo pipefail
cd "$(dirname "$0")/.."

version=v1.24.2
module=github.com/FerretDB/FerretDB
# shellcheck source=scripts/lib/machine.sh
. scripts/lib/machine.sh
tools=$(tools_dir)
bin=$tools/ferretdb-$version/ferretdb
pg_url=${FERRETDB_PG_URL:-postgres://postgres@127.0.0.1:5432}
pg_database=${FERRETDB_PG_DATABASE:-users_auth_ferretdb}

say() { printf 'ferretdb: %s\n' "$*" >&2; }
started=$SECONDS
phase_started=$SECONDS
timings=()
# Records how long the phase that just ended took; printed again at the end.
phase_done() {
  local took=$((SECONDS - phase_started))
  timings+=("$(printf '%-34s %4ss' "$1" "$took")")
  say "$1: ${took}s"
  phase_started=$SECONDS
}

# FerretDB's binary refuses to start without build/version/version.txt, which its release
# process writes and the module zip lacks (`go install …@version` builds a binary that panics
# at start-up). So: a writable copy of the module source, version.txt written as the release
# does, `go build` in it, then one rename so a parallel run never sees half a binary.
build_ferretdb() {
  local go src tmp
  go=$(find_go FerretDB)
  say "building FerretDB $version from its Go module (once per machine)"
  src=$("$go" mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || {
    say "cannot download the Go module $module@$version"
    exit 1
  }
  mkdir -p "$(dirname "$bin")"
  tmp=$(mktemp -d "$(dirname "$bin")/.build.XXXXXX")
  cp -R "$src/." "$tmp/src"
  chmod -R u+w "$tmp/src"
  echo "$version" >"$tmp/src/build/version/version.txt"
  echo "source" >"$tmp/src/build/version/package.txt"
  # No debug build tag: a release-like binary. CGO is not needed (pure-Go SQLite).
  (cd "$tmp/src" && CGO_ENABLED=0 GOFLAGS=-trimpath "$go" build -ldflags '-s -w' \
    -o "$tmp/ferretdb" ./cmd/ferretdb)
  mv -f "$tmp/ferretdb" "$bin"
  rm -rf "$tmp"
}

mkdir -p "$(dirname "$bin")"
exec 9>"$(dirname "$bin")/.lock"
flock 9 # one build at a time; a second caller waits, then finds the binary
if [ ! -x "$bin" ]; then build_ferretdb; fi
exec 9>&-
say "$("$bin" --version 2>&1 | sed -n 's/^version:[[:space:]]*//p' | head -n 1) at $bin"
phase_done "build FerretDB (once per machine)"

# psql from Debian's client package; test-all.sh makes sure a server answers on :5432.
for tool in psql curl setsid; do
  command -v "$tool" >/dev/null 2>&1 || {
    say "$tool is needed (Debian packages postgresql-client, curl, util-linux)"
    exit 1
  }
done
pg() { psql "$pg_url/postgres" -X -q -v ON_ERROR_STOP=1 "$@"; }
pg -c 'select 1' >/dev/null || {
  say "PostgreSQL does not answer at $pg_url"
  exit 1
}
# WITH (FORCE) ends connections a killed earlier run may have left open.
pg -c "drop database if exists $pg_database with (force)" -c "create database $pg_database"
phase_done "recreate PostgreSQL database"

# A port free a moment ago; FerretDB fails to start (and says so) if another took it since.
free_port() {
  node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => {
    console.log(s.address().port); s.close() })"
}
port=$(free_port)
log=${FERRETDB_LOG:-$(mktemp -t ferretdb.XXXXXX.log)}
state=$(mktemp -d -t ferretdb-state.XXXXXX)
ferretdb_pid=''
stop_ferretdb() {
  if [ -n "$ferretdb_pid" ]; then
    kill "$ferretdb_pid" 2>/dev/null || true
    wait "$ferretdb_pid" 2>/dev/null || true
    ferretdb_pid=''
  fi
  rm -rf "$state"
  pg -c "drop database if exists $pg_database with (force)" || true
}
trap stop_ferretdb EXIT

# Telemetry off (no network here); no debug listener, so several runs can share a machine.
FERRETDB_TELEMETRY=disable "$bin" \
  --listen-addr="127.0.0.1:$port" \
  --handler=postgresql \
  --postgresql-url="$pg_url/$pg_database" \
  --state-dir="$state" \
  --debug-addr=- \
  --log-level=warn \
  >"$log" 2>&1 &
ferretdb_pid=$!
uri="mongodb://127.0.0.1:$port"

# Ready when a driver's ping succeeds (which also reaches PostgreSQL); the driver comes from
# the dev-mongo package, which has it as a dependency.
ping_ferretdb() {
  (cd packages/dev-mongo && node --input-type=module -e "
    import { MongoClient } from 'mongodb'
    const client = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 1000 })
    try { await client.db('admin').command({ ping: 1 }) } finally { await client.close() }
  " "$uri") >/dev/null 2>&1
}
for _ in $(seq 1 60); do
  kill -0 "$ferretdb_pid" 2>/dev/null || break
  ping_ferretdb && break
  sleep 0.5
done
if ! ping_ferretdb; then
  say "FerretDB did not answer at $uri; its log ($log):"
  tail -n 40 "$log" >&2
  exit 1
fi
say "FerretDB $version answers at $uri (PostgreSQL database $pg_database; log: $log)"
phase_done "start FerretDB"

status=0
MONGODB_URI=$uri pnpm vitest run --project dev-mongo || status=1
phase_done "compatibility suite (dev-mongo)"

# users-api as a user would start it (pnpm start) on FerretDB: does it turn ready? If not,
# every integration test would only wait out its timeout, so the suite is not run and the
# reason is printed instead.
users_port=$(free_port)
auth_port=$(free_port)
start_log=$(mktemp -t ferretdb-users-api.XXXXXX.log)
setsid env MONGODB_URI="$uri/users_api_readiness" HOST=127.0.0.1 PORT="$users_port" \
  AUTH_API_PORT="$auth_port" ARGON2_MEMORY_KIB=1024 ARGON2_ITERATIONS=1 pnpm start \
  >"$start_log" 2>&1 </dev/null &
start_pid=$!
readiness=''
for _ in $(seq 1 90); do # tsx compiles both services first: up to half a minute on a busy machine
  readiness=$(curl -s -m 2 -w ' %{http_code}' "http://127.0.0.1:$users_port/readyz" || true)
  [[ $readiness == *' 200' ]] && break
  sleep 0.5
done
kill -TERM -- "-$start_pid" 2>/dev/null || true
wait "$start_pid" 2>/dev/null || true

# users-api's failures on FerretDB are known and listed in packages/dev-mongo/README.md
# ("MongoDB compatibility"); they are reported here and fail the run only with
# FERRETDB_USERS_API_GATING=1 (for when users-api's queries have been made portable).
users_api_failed() {
  if [ "${FERRETDB_USERS_API_GATING:-0}" = 1 ]; then
    status=1
  else
    say "users-api on FerretDB: failures reported, not gating (FERRETDB_USERS_API_GATING=1 gates them)"
  fi
}
if [[ $readiness == *' 200' ]]; then
  say "users-api turns ready on FerretDB; running its integration tests"
  # The JSON report replaces the summary line: the per-test verdicts are printed below.
  report=$(mktemp -t ferretdb-users-api.XXXXXX.json)
  MONGODB_URI=$uri pnpm vitest run --project users-api --reporter=default \
    --reporter=json --outputFile.json="$report" || users_api_failed
  node -e "
    const { testResults } = JSON.parse(require('node:fs').readFileSync(process.argv[1], 'utf8'))
    const count = { passed: 0, failed: 0, other: 0 }
    for (const file of testResults) {
      if (file.assertionResults.length === 0 && file.status === 'failed') count.failed++
      for (const test of file.assertionResults) {
        count[test.status in count ? test.status : 'other']++
        if (test.status === 'failed') console.log('  failing on FerretDB: ' + test.fullName)
      }
    }
    console.log('users-api on FerretDB: ' + count.passed + ' passing, ' + count.failed +
      ' failing, ' + count.other + ' skipped')
  " "$report" || true
  rm -f "$report"
else
  say "users-api does not turn ready on FerretDB, so its integration tests are not run."
  say "  GET /readyz answered: ${readiness:-nothing}"
  say "  users-api's last MongoDB error: $(grep -o '"message":"\([^"\\]\|\\.\)*"' "$start_log" | tail -n 1)"
  users_api_failed
fi
rm -f "$start_log"
phase_done "users-api on FerretDB"

stop_ferretdb
trap - EXIT
phase_done "stop FerretDB"

# FerretDB's log is kept when something failed, or when FERRETDB_LOG asked for it.
if [ "$status" -eq 0 ] && [ -z "${FERRETDB_LOG:-}" ]; then rm -f "$log"; fi
say "times:"
printf '  %s\n' "${timings[@]}" >&2
say "whole pass: $((SECONDS - started))s; tests $([ "$status" -eq 0 ] && echo passed || echo failed)"
exit "$status"
