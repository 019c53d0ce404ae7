#!/usr/bin/env bash
# Packages charts/users-auth for a release and prints the .tgz's path:
#   bash .github/scripts/package-chart.sh <version X.Y.Z> <image prefix> <output folder>
# e.g. 1.4.2 ghcr.io/acme/users-auth out/. The chart's version and appVersion become the
# release version, so both images default to the tag X.Y.Z the release pushed, and the image
# repositories default to <image prefix>/users-api and <image prefix>/auth-api: an operator
# installs the release with no image values at all.
set -euo pipefail
chart_dir=$(cd "$(dirname "$0")/../../charts/users-auth" && pwd)

if [ "$#" -ne 3 ]; then
  echo "usage: $0 <version X.Y.Z> <image prefix, e.g. ghcr.io/owner/repo> <output folder>" >&2
  exit 2
fi
version=$1 prefix=$2 out=$3
helm=${HELM:-helm}

if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "package-chart: '$version' is not a version X.Y.Z" >&2
  exit 1
fi
# Registries want lower-case repository names; no characters that sed or YAML would read.
if ! [[ $prefix =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+$ ]]; then
  echo "package-chart: '$prefix' is not a lower-case image prefix such as ghcr.io/owner/repo" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$chart_dir" "$work/users-auth"
values=$work/users-auth/values.yaml
for service in users-api auth-api; do
  default="^    repository: ghcr\.io/example/users-auth/$service\$"
  if [ "$(grep -c "$default" "$values")" != 1 ]; then
    echo "package-chart: values.yaml has no single default repository for $service" >&2
    exit 1
  fi
  sed -i "s#$default#    repository: $prefix/$service#" "$values"
done

mkdir -p "$out"
"$helm" package "$work/users-auth" --version "$version" --app-version "$version" \
  --destination "$out" >&2
echo "$out/users-auth-$version.tgz"
