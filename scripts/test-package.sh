#!/usr/bin/env bash
# Checks the Debian package on this machine (issue 16 item 5; docs/operations.md, "Installing the
# Debian package"). Needs root. Builds the package (scripts/package.sh) unless given one:
#   scripts/test-package.sh [path/to/colend_<version>_amd64.deb]
# Then: installs it with dpkg -i; checks the files, the colend user and the FHS directories;
# `systemd-analyze verify` accepts the unit; starts a local network of five members with the
# installed binaries, four as usual and the fifth from /etc/colend and /var/lib/colend by running
# the unit's own ExecStartPre and ExecStart lines as the packaged user; checks that it joins (it
# syncs, endorses blocks, and a transaction sent through it commits); stops it with SIGTERM (exit
# 0); shows that a fatal error exits non-zero (so Restart=on-failure applies); purges the package.
# Refuses to run where /etc/colend or /var/lib/colend hold anything already.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-package.sh: run as root (it installs a package)" >&2; exit 2; }
deb=${1:-}
if [ -z "$deb" ]; then
  scripts/package.sh >/dev/null
  deb=$(ls -t build-release/colend_*_amd64.deb | head -1)
fi
for d in /etc/colend /var/lib/colend; do
  if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
    echo "test-package.sh: $d is not empty; this machine runs a colend node already" >&2
    exit 2
  fi
done
passed=0
ok() { echo "  ok   $*"; passed=$((passed + 1)); }
die() { echo "  FAIL $*" >&2; exit 1; }
net=$(mktemp -d /tmp/colend-package-XXXXXX)
node5_pid=""
stop_localnet() {
  for f in "$net"/node*/node.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; true
}
cleanup() {
  [ -n "$node5_pid" ] && kill -9 "$node5_pid" 2>/dev/null || true
  stop_localnet
  dpkg --purge colend >/dev/null 2>&1 || true
  rm -rf /etc/colend /var/lib/colend "$net"
}
trap cleanup EXIT

echo "== dpkg -i $deb"
dpkg -i "$deb" >/dev/null
[ "$(dpkg-query -W -f='${Status}' colend)" = "install ok installed" ] || die "dpkg reports colend installed"
ok "dpkg -i installed $(dpkg-query -W -f='${Package} ${Version}' colend)"
for f in /usr/bin/colend-node /usr/bin/colend /usr/bin/colend-verify /lib/systemd/system/colend-node.service \
         /usr/share/doc/colend/operations.md /usr/share/doc/colend/configuration.md; do
  [ -e "$f" ] || die "$f is installed"
done
ok "binaries, unit and documents installed"
getent passwd colend | grep -q ':/usr/sbin/nologin$' || die "system user colend without a shell"
[ "$(stat -c '%U:%G %a' /etc/colend)" = "root:colend 750" ] || die "/etc/colend is root:colend 0750"
[ "$(stat -c '%U:%G %a' /var/lib/colend)" = "colend:colend 750" ] || die "/var/lib/colend is colend:colend 0750"
ok "user colend (no shell), /etc/colend root:colend 0750, /var/lib/colend colend:colend 0750"
unit=/lib/systemd/system/colend-node.service
verify=$(systemd-analyze verify "$unit" 2>&1) || die "systemd-analyze verify: $verify"
[ -z "$verify" ] || die "systemd-analyze verify has no complaint: $verify"
ok "systemd-analyze verify accepts the unit"
grep -q '^Restart=on-failure$' "$unit" && grep -q '^User=colend$' "$unit" && grep -q '^NoNewPrivileges=yes$' "$unit" \
  || die "the unit restarts on failure, runs as colend, hardened"
ok "Restart=on-failure, User=colend, NoNewPrivileges, ProtectSystem=$(sed -n 's/^ProtectSystem=//p' "$unit")"

echo "== a five-member localnet from the installed binaries; member 5 from /etc/colend as the unit runs it"
/usr/bin/colend localnet init --dir "$net" --nodes 5 >/dev/null
for k in 1 2 3 4; do /usr/bin/colend localnet up --dir "$net" --node $k --timeout 60 >/dev/null; done
h5="$net/node5"
for f in genesis.json ca.pem tls.pem tls.key signing.pem signing.key; do
  install -o root -g colend -m 0640 "$h5/$f" /etc/colend/$f
done
python3 - "$h5/config.json" <<'EOF' > /etc/colend/config.json
import json, sys
c = json.load(open(sys.argv[1]))
c["state_dir"] = "/var/lib/colend"
print(json.dumps(c, indent=2))
EOF
chown root:colend /etc/colend/config.json && chmod 0640 /etc/colend/config.json
cp -a "$h5/data" /var/lib/colend/data && chown -R colend:colend /var/lib/colend/data
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
# As systemd runs them: as user colend, the command itself (setpriv execs, so the pid is the node's
# and SIGTERM reaches it directly, as systemd's KillSignal does).
as_colend() { setpriv --reuid=colend --regid=colend --init-groups --no-new-privs -- "$@"; }
# shellcheck disable=SC2086
as_colend $pre >/dev/null || die "ExecStartPre ($pre) passes as colend"
ok "ExecStartPre as colend: $pre"
# shellcheck disable=SC2086
setpriv --reuid=colend --regid=colend --init-groups --no-new-privs -- $start 2> "$net/node5-unit.log" &
node5_pid=$!
anchor() { printf '%s %s\n' "$1" "$(date +%s%N)" > "$net/$1.txt"; /usr/bin/colend --home "$2" evidence anchor --file "$net/$1.txt" --name "$1.txt" --timeout 60 --json; }
anchor before "$net/node1" >/dev/null
deadline=$((SECONDS + 60)); height5=0
while [ $SECONDS -lt $deadline ]; do
  tip=$(/usr/bin/colend --home "$net/node1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
  height5=$(/usr/bin/colend --home /etc/colend status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])' 2>/dev/null || echo 0)
  [ "$height5" -ge "$tip" ] && [ "$tip" -gt 0 ] && break
  sleep 0.5
done
[ "$height5" -ge "$tip" ] || die "the unit's node caught up: height $height5 of $tip"
ok "the unit's node (pid $node5_pid, user $(ps -o user= -p $node5_pid)) synced to height $height5"
tx=$(anchor through-node5 /etc/colend) || die "a transaction sent through the unit's node commits"
height=$(echo "$tx" | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
ok "a transaction sent through it committed at height $height"
endorsed=0
for _ in $(seq 1 10); do
  anchor "more-$RANDOM" "$net/node2" >/dev/null
  h=$(/usr/bin/colend --home "$net/node1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
  if /usr/bin/colend --home "$net/node1" block "$h" --json | grep -q '"member": "arbitration"'; then endorsed=1; break; fi
done
[ "$endorsed" -eq 1 ] || die "the unit's node endorses blocks"
ok "it endorses blocks (arbitration in a commit certificate)"
grep -q '"level":"info"' "$net/node5-unit.log" || die "the unit's log is JSON lines"
ok "its log is one JSON object per line"

echo "== SIGTERM stops it cleanly; a fatal error exits non-zero"
kill -TERM "$node5_pid"
set +e; wait "$node5_pid"; rc=$?; set -e
node5_pid=""
[ "$rc" -eq 0 ] || die "SIGTERM: exit 0 (got $rc)"
ok "SIGTERM: exit 0 (Restart=on-failure does not restart a clean stop)"
/usr/bin/colend localnet init --dir "$net/other" --nodes 3 >/dev/null
install -o root -g colend -m 0640 "$net/other/genesis.json" /etc/colend/genesis.json
set +e
# shellcheck disable=SC2086
as_colend $start 2> "$net/node5-fatal.log"; rc=$?
set -e
[ "$rc" -ne 0 ] || die "a node that cannot start exits non-zero"
ok "a fatal error exits $rc: $(tail -1 "$net/node5-fatal.log" | cut -c1-140)"
stop_localnet
dpkg --purge colend >/dev/null
getent passwd colend >/dev/null && die "purge removes the colend user"
ok "dpkg --purge removes the package and its user"
echo "$passed passed, 0 failed"
