#!/bin/sh
# Builds the chaincode-as-a-service package for `peer lifecycle chaincode install`:
#   provenant.tgz = metadata.json + code.tar.gz(connection.json)
# Usage: sh package.sh [connection.json] [label]   (run from this folder)
# The label must match metadata.json's "label" if you pass one; the package id the peer prints
# at install is LABEL:SHA256 and is what `provenant chaincode serve --id` must be given.
set -eu
conn=${1:-connection.json}
label=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# tls_required must be a JSON boolean: the peer's Go decoder rejects "true" (a string).
if grep -Eq '"tls_required"[[:space:]]*:[[:space:]]*"' "$here/$conn"; then
  echo "package.sh: tls_required in $conn is a string; write true or false without quotes" >&2
  exit 1
fi
cp "$here/$conn" "$work/connection.json"
if [ -n "$label" ]; then
  printf '{ "type": "ccaas", "label": "%s" }\n' "$label" > "$work/metadata.json"
else
  cp "$here/metadata.json" "$work/metadata.json"
fi
(cd "$work" && tar czf code.tar.gz connection.json && tar czf "$here/provenant.tgz" metadata.json code.tar.gz)
echo "wrote $here/provenant.tgz"
