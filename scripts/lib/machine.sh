# shellcheck shell=bash
# Helpers the install and test scripts share; sourced, never run.

# Installs the Debian packages that are not installed yet (as root, or with sudo), waiting for
# another apt run instead of failing.
apt_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  local apt=("${sudo[@]}" apt-get -qq -o DPkg::Lock::Timeout=600)
  "${apt[@]}" update
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "${missing[@]}" \
    >/dev/null
}

# Prints the go command to use (PATH, then /usr/local/go), or fails naming what builds with it.
find_go() {
  local go
  for go in "$(command -v go || true)" /usr/local/go/bin/go; do
    if [ -n "$go" ] && [ -x "$go" ]; then
      echo "$go"
      return
    fi
  done
  echo "Go 1.25 or newer is needed to build $1 (https://go.dev/dl)" >&2
  exit 1
}

# Where tools built once per machine live, outside git.
tools_dir() {
  echo "${USERS_AUTH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/users-auth/tools}"
}
