#!/usr/bin/env bash
# Creates the Secret the chart reads in the development cluster (k8s/dev/values.yaml sets
# secrets.existingSecret to it): a fresh service credential and signing key, and the URIs of
# the MongoDB and Redis from this folder. An existing Secret is left alone, so a re-run does not
# invalidate issued tokens; pass --rotate to replace it (then restart the deployments). A rotation
# puts a new TOTP encryption key first and keeps the old ones, so enrolled second factors work on.
# The signing key comes from the auth-api image (AUTH_API_IMAGE, default the one built for
# kind), as an operator without a checkout would make it; needs docker.
set -euo pipefail
cd "$(dirname "$0")/../.."
ns=${NAMESPACE:-users-auth-dev}
name=${SECRET_NAME:-users-auth-dev}
image=${AUTH_API_IMAGE:-users-auth/auth-api:dev}

if [ "${1:-}" != "--rotate" ] && kubectl -n "$ns" get secret "$name" >/dev/null 2>&1; then
  echo "secret/$name exists in $ns (pass --rotate to replace it)"
  exit 0
fi

# Files, not --from-literal: the values never appear in a process listing.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
umask 077
docker run --rm --network none "$image" node dist/keygen.js >"$dir/jwt-private-keys"
node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); if (!Array.isArray(s.keys) || s.keys.length === 0) throw new Error("keygen printed no JWK set")' "$dir/jwt-private-keys"
openssl rand -hex 32 | tr -d '\n' >"$dir/internal-api-token"
docker run --rm --network none "$image" node dist/keygen.js --totp | tr -d '\n' >"$dir/totp-encryption-keys"
old_totp=$(kubectl -n "$ns" get secret "$name" -o jsonpath='{.data.totp-encryption-keys}' 2>/dev/null | base64 -d || true)
if [ -n "$old_totp" ]; then printf ',%s' "$old_totp" >>"$dir/totp-encryption-keys"; fi
printf 'mongodb://mongodb.%s.svc.cluster.local:27017/users-auth' "$ns" >"$dir/mongodb-uri"
printf 'redis://redis.%s.svc.cluster.local:6379' "$ns" >"$dir/redis-url"
printf 'smtp://mailpit.%s.svc.cluster.local:1025' "$ns" >"$dir/smtp-url"

kubectl -n "$ns" create secret generic "$name" \
  --from-file=jwt-private-keys="$dir/jwt-private-keys" \
  --from-file=internal-api-token="$dir/internal-api-token" \
  --from-file=mongodb-uri="$dir/mongodb-uri" \
  --from-file=redis-url="$dir/redis-url" \
  --from-file=smtp-url="$dir/smtp-url" \
  --from-file=totp-encryption-keys="$dir/totp-encryption-keys" \
  --dry-run=client -o yaml | kubectl apply -f -
