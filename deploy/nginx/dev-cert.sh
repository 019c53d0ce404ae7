#!/bin/sh
# Runs in the nginx container before nginx starts (/docker-entrypoint.d): makes a self-signed
# development certificate for localhost on first start, kept in the nginx-certs volume.
# NGINX_CERT_DIR points it elsewhere (the proxy test runs it into a temporary folder).
set -eu
dir=${NGINX_CERT_DIR:-/etc/nginx/certs}
if [ -s "$dir/tls.crt" ] && [ -s "$dir/tls.key" ]; then
  exit 0
fi
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj '/CN=localhost' -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
  -keyout "$dir/tls.key" -out "$dir/tls.crt" 2>/dev/null
chmod 0644 "$dir/tls.crt"
echo "dev-cert.sh: made a self-signed development certificate in $dir (for localhost)"
