#!/usr/bin/env bash
# Installs what the deployment checks (vitest project "deploy") need, once per machine, and
# prints where the tools are. Idempotent and quick when all is present (no build, no download).
# Run by .ci/run and by the deploy tests' global setup; as root or with sudo for the packages.
#   helm (the real one, v3.18.4 as the workflows pin it) and actionlint, built from their Go
#   modules into a cache folder outside git: ${USERS_AUTH_TOOLS:-~/.cache/users-auth/tools}
#   docker-compose (Debian's, Python)  -> `docker-compose config -q`, no engine needed
#   ShellCheck                         -> lints the shell scripts, and actionlint's run: steps
# Building needs Go 1.25+ (on PATH or in /usr/local/go) and the Go module proxy.
set -euo pipefail
cd "$(dirname "$0")/../.."

# The versions the workflows use; tests/deploy/src/tools.ts reads them from here.
helm_version=v3.18.4
actionlint_version=v1.7.12

# shellcheck source=scripts/lib/machine.sh
. scripts/lib/machine.sh

tools=$(tools_dir)
helm_bin=$tools/helm-$helm_version/helm
actionlint_bin=$tools/actionlint-$actionlint_version/actionlint

apt_install docker-compose shellcheck

# go install into a temporary folder, then one rename: a parallel run never sees half a binary.
go_install() {
  local bin=$1 package=$2 ldflags=$3 go tmp
  go=$(find_go "$(basename "$bin")")
  mkdir -p "$(dirname "$bin")"
  tmp=$(mktemp -d "$(dirname "$bin")/.build.XXXXXX")
  echo "deploy checks: building $package (once per machine)" >&2
  CGO_ENABLED=0 GOBIN=$tmp GOFLAGS=-trimpath "$go" install -ldflags "$ldflags" "$package"
  mv -f "$tmp/$(basename "$bin")" "$bin"
  rmdir "$tmp"
}

mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9 # one build at a time; a second caller waits, then finds the binary

if [ ! -x "$helm_bin" ]; then
  # The release build's flags (helm's Makefile): its version, and the Kubernetes version that
  # `helm template` and `helm lint` assume, taken from the client-go it is built with.
  go=$(find_go "$(basename "$bin")")
  gomod=$("$go" mod download -json "helm.sh/helm/v3@$helm_version" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  client_go=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod")
  k8s_minor=$(echo "$client_go" | cut -d. -f2)
  [ -n "$k8s_minor" ] || {
    echo "deploy checks: cannot read helm $helm_version's client-go version" >&2
    exit 1
  }
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$helm_version"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  go_install "$helm_bin" "helm.sh/helm/v3/cmd/helm@$helm_version" "$ldflags"
fi

if [ ! -x "$actionlint_bin" ]; then
  go_install "$actionlint_bin" "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version" "-s -w"
fi

echo "deploy checks: $("$helm_bin" version --short) at $helm_bin" >&2
echo "deploy checks: actionlint $("$actionlint_bin" -version | head -n 1) at $actionlint_bin" >&2
