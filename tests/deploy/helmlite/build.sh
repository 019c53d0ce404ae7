#!/usr/bin/env bash
# Builds helmlite from Debian's Go packages (GOPATH mode, no module downloads) into a cache dir
# outside git and prints the binary's path. Rebuilds only when main.go or the Go version changed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${HELMLITE_CACHE:-$repo/node_modules/.cache/helmlite}
gocode=/usr/share/gocode

command -v go >/dev/null 2>&1 || {
  echo "helmlite: 'go' is missing; run: bash tests/deploy/install-tools.sh" >&2
  exit 1
}
for dir in github.com/Masterminds/sprig github.com/xeipuuv/gojsonschema sigs.k8s.io/yaml gopkg.in/yaml.v3; do
  [ -d "$gocode/src/$dir" ] || {
    echo "helmlite: $gocode/src/$dir is missing; run: bash tests/deploy/install-tools.sh" >&2
    exit 1
  }
done

stamp=$( (cat "$here/main.go"; go version) | sha256sum | cut -c1-16)
bin=$cache/helmlite-$stamp
if [ ! -x "$bin" ]; then
  mkdir -p "$cache/gopath/src/github.com/Masterminds/sprig" "$cache/gopath/src/github.com/Masterminds/semver"
  # Debian ships sprig and semver without their /v3 import-path suffix.
  ln -sfn "$gocode/src/github.com/Masterminds/sprig" "$cache/gopath/src/github.com/Masterminds/sprig/v3"
  ln -sfn "$gocode/src/github.com/Masterminds/semver" "$cache/gopath/src/github.com/Masterminds/semver/v3"
  tmp=$(mktemp "$cache/build.XXXXXX")
  (cd "$here" && GO111MODULE=off GOFLAGS='' GOPATH="$cache/gopath:$gocode" GOCACHE="$cache/gocache" \
    go build -o "$tmp" main.go)
  mv -f "$tmp" "$bin" # atomic, so parallel builds never run a half-written binary
fi
echo "$bin"
