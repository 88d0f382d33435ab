# Sourced by scripts/bench.sh and bench-long.sh (not run on its own): starts a fresh 5-node
# local network of "$bin" in a temporary directory "$net" (prefix $1), stopped and removed when
# the calling script exits. The chain's signature suite is "$suite" if the caller sets it (std
# otherwise).
net=$(mktemp -d "/tmp/$1.XXXXXX")
cleanup() {
  "$bin/colend" localnet down --dir "$net/net" --kill >/dev/null 2>&1 || true
  rm -rf "$net"
}
trap cleanup EXIT
"$bin/colend" localnet init --dir "$net/net" --nodes 5 --suite "${suite:-std}" >/dev/null
