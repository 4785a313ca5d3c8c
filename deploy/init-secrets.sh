#!/bin/sh
# Creates the secret files deploy/compose.yaml mounts, once, with openssl:
#
#   sh deploy/init-secrets.sh [DIR]          # default: deploy/secrets beside this script
#
#   hmac_secret          the chain's HMAC key (64 hex characters). Never replace it on a
#                        chain that has records: the gateway refuses another secret at start
#                        (docs/chain-format.md), so keep a copy with your backups.
#   signing_key.pem      Ed25519 private key for signed checkpoints
#   bootstrap_admin_key  an admin API key (tgk_ + 64 hex) installed at every start
#   postgres_password    the PostgreSQL password of role `tracegate`
#   database_url         postgresql://tracegate:<that password>@postgres:5432/tracegate
#
# An existing file is never overwritten. DIR gets mode 0700 (only you can reach the files on
# this host); the files get 0644 so that the container's unprivileged user can read them
# where compose mounts them (/run/secrets/<name>), since file secrets keep host permissions.
set -eu

dir=${1:-$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)/secrets}
umask 077
mkdir -p "$dir"
chmod 0700 "$dir"

# write NAME CONTENT-COMMAND...: run the command into DIR/NAME unless the file exists.
write() {
  name=$1
  shift
  if [ -e "$dir/$name" ]; then
    echo "kept    $dir/$name (exists)"
    return 0
  fi
  "$@" >"$dir/$name.tmp"
  chmod 0644 "$dir/$name.tmp"
  mv "$dir/$name.tmp" "$dir/$name"
  echo "created $dir/$name"
}

hex() {
  openssl rand -hex "$1"
}

write hmac_secret hex 32
write signing_key.pem openssl genpkey -algorithm ed25519
write bootstrap_admin_key sh -c 'printf "tgk_%s\n" "$(openssl rand -hex 32)"'
write postgres_password hex 24
write database_url sh -c "printf 'postgresql://tracegate:%s@postgres:5432/tracegate\n' \"\$(cat '$dir/postgres_password')\""
