#!/usr/bin/env bash
# Test certificates for mTLS between the Temporal frontend and its callers (workers, backupctl,
# the client library, the codec server's checks). For the local engine lane and for trying the
# compose stack; real deployments bring their own CA (docs/production.md says where they go).
#
#   scripts/make-certs.sh <dir>
#
# Writes into <dir> (kept when already there):
#   ca.pem ca-key.pem               the CA the frontend trusts for clients and clients trust for it
#   server.pem server-key.pem       the frontend (SAN: localhost, 127.0.0.1, temporal)
#   client.pem client-key.pem       a caller the CA signed
#   stranger.pem stranger-key.pem   a caller signed by another CA, which the frontend must refuse
set -euo pipefail
dir="${1:?usage: scripts/make-certs.sh <dir>}"
mkdir -p "$dir"
cd "$dir"
[ -s client-key.pem ] && [ -s server.pem ] && [ -s stranger.pem ] && exit 0

days=825
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }

key ca-key.pem
openssl req -x509 -new -key ca-key.pem -sha256 -days "$days" -subj "/CN=backup-orchestrator test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

# sign <name> <subject> <extensions>
sign() {
  local name=$1 subject=$2 ext=$3 ca=${4:-ca} ; key "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "$subject" -out "$name.csr"
  printf '%b\n' "$ext" > "$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca-key.pem" -CAcreateserial -days "$days" -sha256 \
    -extfile "$name.ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

sign server "/CN=localhost" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1,DNS:temporal"
sign client "/CN=backup-orchestrator-worker" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth"

key stranger-ca-key.pem
openssl req -x509 -new -key stranger-ca-key.pem -sha256 -days "$days" -subj "/CN=someone else's CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out stranger-ca.pem
sign stranger "/CN=stranger" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth" stranger-ca
rm -f ./*.srl
