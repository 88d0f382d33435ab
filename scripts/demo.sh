#!/usr/bin/env bash
# The main job: installs what is missing, builds, brings up a local network of the five default
# institutions (one colend-node process each, mutual TLS, LevelDB), anchors a document, shows a
# block's endorsements, survives two institutions going down, and then runs the sample joint loan
# (colend localnet demo) from admission to settlement, printing the story in CNY.
# The network keeps running; stop it with
#   build/bin/colend localnet down --dir .localnet
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
colend=build/bin/colend
dir=${COLEND_DEMO_DIR:-.localnet}
if [ -f "$dir/genesis.json" ]; then
  $colend localnet down --dir "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
fi
echo "== colend localnet init: five institutions, majority endorsement (3 of 5), development clock"
$colend localnet init --dir "$dir" --nodes 5 --dev-clock
echo
echo "== colend localnet up"
$colend localnet up --dir "$dir"
echo
contract="$dir/sample-loan-contract.txt"
printf 'Joint loan contract L2026-0001\nLead bank 20%%, partner bank 80%%\nPrincipal 40000.00 CNY, 20 periods\n' > "$contract"
echo "== lead-bank anchors the signed loan contract's SHA-256 (waits for the commit)"
$colend --home "$dir/node1" evidence anchor --file "$contract" --name loan-contract.txt --loan-id L-demo
echo
height=$($colend --home "$dir/node1" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["height"])')
echo "== the block at height $height, as each institution's node reports it"
for k in 1 2 3 4 5; do
  $colend --home "$dir/node$k" block "$height" --json | K=$k python3 -c '
import json, os, sys
b = json.load(sys.stdin)
members = " ".join(e["member"] for e in b["endorsements"])
print("node%s  block %d  hash %s...  endorsed by %d: %s"
      % (os.environ["K"], b["height"], b["hash"][:16], len(b["endorsements"]), members))'
done
echo
echo "== the payee bank's node reports the block"
$colend --home "$dir/node3" block "$height"
echo
echo "== stop two institutions (kill -9): 3 of 5 still endorse"
$colend localnet down --dir "$dir" --node 4 --kill
$colend localnet down --dir "$dir" --node 5 --kill
printf 'Collection notice for L2026-0001, day 3 overdue\n' > "$dir/notice.txt"
$colend --home "$dir/node2" evidence anchor --file "$dir/notice.txt" --name collection-notice.txt --loan-id L-demo
echo
echo "== bring them back: they catch up"
$colend localnet up --dir "$dir"
$colend localnet status --dir "$dir"
echo
echo "== the sample joint loan, end to end (colend localnet demo): every step a signed transaction"
$colend localnet demo --dir "$dir" --json > "$dir/demo.json"
python3 -c 'import json,sys; [print(l) for l in json.load(open(sys.argv[1]))["story"]]' "$dir/demo.json"
loan=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["loan"])' "$dir/demo.json")
echo
echo "== the lead bank attaches the signed contract and the collection notice to loan $loan"
$colend --home "$dir/node1" evidence attach --loan "$loan" --file "$contract" --kind contract \
        --label "loan contract $loan"
$colend --home "$dir/node1" evidence attach --loan "$loan" --file "$dir/notice.txt" --kind notice
echo
echo "== the arbitration commission's node exports the loan's evidence bundle"
bundle="$dir/evidence-$loan.zip"
# Its node fetches the attached documents from the lead bank's first: until then export refuses
# with document-missing. Its refusals are shown only if the last attempt fails too.
for attempt in 1 2 3 4 5 6 7 8 9 10; do
  if [ "$attempt" -lt 10 ]; then
    $colend --home "$dir/node5" evidence export --loan "$loan" --out "$bundle" 2>/dev/null && break
    if [ "$attempt" -eq 1 ]; then
      echo "(waiting for node5 to fetch the attached documents from its peers)"
    fi
  else
    $colend --home "$dir/node5" evidence export --loan "$loan" --out "$bundle" && break
  fi
  sleep 1
done
fingerprint=$(openssl x509 -in "$dir/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)
echo "consortium root CA fingerprint (an arbitrator takes it from the loan contract's annex):"
echo "  $fingerprint"
echo
echo "== verified offline with colend-verify"
build/bin/colend-verify "$bundle" --root-sha256 "$fingerprint" | tail -4
echo
echo "== verified with nothing but bash, openssl and coreutils (tools/verify.sh inside the bundle)"
rm -rf "$dir/case" && mkdir -p "$dir/case" && unzip -q "$bundle" -d "$dir/case"
(cd "$dir/case" && env -i PATH=/usr/bin:/bin bash tools/verify.sh --root-sha256 "$fingerprint" | tail -3)
echo "report for people (not evidence): $dir/case/report/case.html"
echo
echo "Network running in $dir. Try: $colend --home $dir/node1 status"
echo "Stop it with: $colend localnet down --dir $dir"
