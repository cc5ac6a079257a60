#!/bin/sh
# Builds the chaincode-as-a-service package for `peer lifecycle chaincode install`:
#   provenant.tgz = metadata.json + code.tar.gz(connection.json)
# Usage: sh package.sh [connection.json] [label]   (run from this folder)
# The label must match metadata.json's "label" if you pass one; the package id the peer prints
# at install is LABEL:SHA256 and is what `provenant chaincode serve --id` must be given.
#
# The output is byte-for-byte reproducible: the same connection.json and label always give the
# same provenant.tgz, hence the same package id (no new approval or sequence for unchanged
# content). Files are archived in a fixed order with mtime 0, owner 0:0 and mode 0644, and gzip
# stores no name or time (-n). Needs GNU tar (Linux); BSD tar lacks these options.
set -eu
conn=${1:-connection.json}
label=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# tls_required must be a JSON boolean: the peer's Go decoder rejects "true" (a string).
if grep -Eq '"(tls_required|client_auth_required)"[[:space:]]*:[[:space:]]*"' "$here/$conn"; then
  echo "package.sh: tls_required/client_auth_required in $conn is a string; write true or false without quotes" >&2
  exit 1
fi
if ! tar --version 2>/dev/null | grep -q 'GNU tar'; then
  echo "package.sh: needs GNU tar (for a reproducible archive: --sort, --mtime, --owner)" >&2
  exit 1
fi
cp "$here/$conn" "$work/connection.json"
if [ -n "$label" ]; then
  printf '{ "type": "ccaas", "label": "%s" }\n' "$label" > "$work/metadata.json"
else
  cp "$here/metadata.json" "$work/metadata.json"
fi
chmod 0644 "$work/connection.json" "$work/metadata.json"
pack() { # pack OUT FILE...: reproducible tar.gz
  out=$1
  shift
  (cd "$work" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -cf - "$@") | gzip -n -9 > "$out"
}
pack "$work/code.tar.gz" connection.json
chmod 0644 "$work/code.tar.gz"
pack "$here/provenant.tgz" metadata.json code.tar.gz
echo "wrote $here/provenant.tgz"
