#!/usr/bin/env bash
# Installs what the deployment checks (vitest project "deploy") need and builds helmlite, the
# offline chart renderer. Idempotent: when everything is present it only confirms helmlite is
# built (well under a second). Run by .ci/run before the tests; as root or with sudo.
#   golang-go + sprig/yaml/gojsonschema sources  -> helmlite (tests/deploy/helmlite)
#   docker-compose (1.29, Python)                -> `docker-compose config -q`, no engine needed
#   the ShellCheck package                       -> lints the deployment shell scripts
# kubectl, when present, renders k8s/dev; without it the tests use their own renderer.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(
  golang-go
  golang-github-masterminds-sprig-dev
  golang-gopkg-yaml.v3-dev
  golang-k8s-sigs-yaml-dev
  golang-github-xeipuuv-gojsonschema-dev
  docker-compose
  shellcheck
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deploy checks: installing ${missing[*]}"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

bin=$(bash tests/deploy/helmlite/build.sh)
echo "deploy checks: helmlite at $bin"
