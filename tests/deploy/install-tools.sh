#!/usr/bin/env bash
# Installs what the deployment checks (vitest project "deploy") need. Idempotent: when all is
# present it only confirms the renderer (well under a second). Run by .ci/run before the
# tests; as root or with sudo.
#   docker-compose (1.29, Python)   -> `docker-compose config -q`, no engine needed
#   the ShellCheck package          -> lints the deployment shell scripts
#   without helm on PATH: golang-go and the sprig/yaml/gojsonschema sources, to build
#   helmlite (tests/deploy/helmlite), the offline chart renderer
# kubectl, when present, renders k8s/dev; without it the tests use their own renderer.
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(docker-compose shellcheck)
# With the real helm (as on GitHub's runners) the chart is rendered by helm; else by helmlite.
if ! command -v helm >/dev/null 2>&1; then
  packages+=(
    golang-go
    golang-github-masterminds-sprig-dev
    golang-gopkg-yaml.v3-dev
    golang-k8s-sigs-yaml-dev
    golang-github-xeipuuv-gojsonschema-dev
  )
fi

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

if command -v helm >/dev/null 2>&1; then
  echo "deploy checks: rendering the chart with $(command -v helm)"
else
  echo "deploy checks: helmlite at $(bash tests/deploy/helmlite/build.sh)"
fi
