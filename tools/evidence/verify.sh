#!/usr/bin/env bash
# verify.sh: the manual verifier of a colend evidence bundle (colend-evidence-bundle/v1).
#
# Run it inside the unpacked bundle folder:
#
#     bash tools/verify.sh --root-sha256 <FP>
#
# FP is the SHA-256 fingerprint of the consortium's root CA certificate. Take it from the loan
# contract's annex or the commission's file, never from the bundle. It may be written as 64 hex
# digits or as openssl prints it (AB:CD:...). Optionally, --genesis-sha256 <G> also pins the
# chain's genesis file when G is known from the same kind of source.
#
# The checks are those of docs/evidence-bundle.md, section 6 (the zip check is colend-verify's;
# here "layout" refuses files outside the layout). Each prints one line, "PASS <check>: ..." or
# "FAIL <check>: ...", then a summary. Exit 0: every check passed; 1: a check failed; 2: bad
# usage. A check that needs an earlier one (e.g. blocks need the membership) fails when it failed.
# The script uses only bash, openssl 3, sha256sum, coreutils, grep and sed. MANIFEST.sha256,
# README.txt and report/ are never read.

set -u -o pipefail
export LC_ALL=C
shopt -s nullglob globstar dotglob

HEX64='^[0-9a-f]{64}$'
UINT='(0|[1-9][0-9]{0,17})'   # canonical unsigned decimal that fits bash arithmetic
BUCKET_BITS=16                # the state tree has 2^16 buckets: its top tree has 16 levels
LAYOUT='^(mimetype|README\.txt|VERIFY\.md|MANIFEST\.sha256|bundle\.txt|trust/ca\.pem|'\
'consortium/epoch-[0-9]{6}(\.json|-proof\.txt)|consortium/epoch-[0-9]{6}/(members\.txt|[a-z0-9-]{1,64}\.pem)|'\
'blocks/[0-9]{12}/(header\.txt|round\.txt|ledger-proof\.txt|endorsements/[a-z0-9-]{1,64}\.der)|'\
'records/[0-9]{6}/(tx\.txt|tx\.sig|leaf\.txt|tx-proof\.txt|receipt\.txt|receipt-proof\.txt)|'\
'state/(loan-records\.txt|loan-records-proof\.txt|loan\.json|loan-proof\.txt)|state/events/[0-9]{12}(\.json|-proof\.txt)|'\
'documents/[0-9a-f]{64}|report/case\.html|tools/verify\.sh)$'
# One member object of a membership document, once spaces and line ends are removed.
MEMBER='^\{"id":"([a-z0-9-]{1,64})","name":"(([^"\\]|\\.)*)","role":"([a-z_]+)",'\
'"signing_certificate":"(([^"\\]|\\.)*)","tls_certificate":"(([^"\\]|\\.)*)"\}([],])'

# ---------------------------------------------------------------- arguments and output
usage() { echo "usage: bash tools/verify.sh --root-sha256 <64 hex digits> [--genesis-sha256 <64 hex>]" >&2; exit 2; }
FP= GENESIS=
while (($# >= 2)); do
  case $1 in --root-sha256) FP=$2 ;; --genesis-sha256) GENESIS=$2 ;; *) usage ;; esac
  shift 2
done
(($# == 0)) || usage
FP=$(printf '%s' "$FP" | tr -d ':' | tr 'A-F' 'a-f')
GENESIS=$(printf '%s' "$GENESIS" | tr -d ':' | tr 'A-F' 'a-f')
[[ $FP =~ $HEX64 ]] || usage
[[ -z $GENESIS || $GENESIS =~ $HEX64 ]] || usage
[[ -f bundle.txt ]] || { echo "verify.sh: run me inside the unpacked bundle folder (no bundle.txt here)" >&2; exit 2; }

TMP=$(mktemp -d) || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP
CHECKS=0 FAILED=0

# A check runs in a subshell: it prints its detail and succeeds, or calls fail, which prints
# what went wrong and ends the subshell. Checks leave "ok-<name>" marks in $TMP for later ones.
fail() { echo "$*"; exit 1; }
run() {  # run <check name> <function> [arguments]
  local name=$1 out status; shift
  out=$("$@"); status=$?
  out=${out##*$'\n'}
  CHECKS=$((CHECKS + 1))
  if ((status == 0)); then echo "PASS $name: $out"
  else FAILED=$((FAILED + 1)); echo "FAIL $name: ${out:-stopped on an unreadable or malformed file}"; fi
}

# ---------------------------------------------------------------- bytes, hashes, Merkle proofs
sha() { local h; h=$(sha256sum "${1:--}") || return 1; echo "${h:0:64}"; }  # of a file, or stdin
bytes() { printf "$(sed 's/../\\x&/g' <<<"$1")"; }                          # hex digits -> bytes
node_hash() { { printf '\x01'; bytes "$1"; bytes "$2"; } | sha; }           # H(0x01 || l || r)

# load <file>: its lines into L; the file must exist, be non-empty and end with a line feed.
load() {
  [[ -f $1 ]] || fail "$1 is missing"
  [[ -s $1 && $(tail -c1 "$1" | wc -l) == 1 ]] || fail "$1 is empty or lacks its final line feed"
  mapfile -t L <"$1"
}

# fold <leaf hash> <index> <size> <prefix> <proof lines...>: RFC 9162 section 2.1.3.2. Each line
# must be "<prefix>: <hex>"; sets ROOT to the root the audit path leads to.
fold() {
  local r=$1 fn=$2 sn=$(($3 - 1)) prefix=$4 line
  shift 4
  ((fn <= sn)) || fail "index $fn is not below the tree size $((sn + 1))"
  for line; do
    [[ $line =~ ^$prefix:\ ([0-9a-f]{64})$ ]] || fail "proof line '$line' is not '$prefix: <hex>'"
    ((sn > 0)) || fail "the audit path is longer than the tree allows"
    if ((fn % 2 == 1 || fn == sn)); then
      r=$(node_hash "${BASH_REMATCH[1]}" "$r")
      while ((fn % 2 == 0 && fn != 0)); do fn=$((fn >> 1)) sn=$((sn >> 1)); done
    else
      r=$(node_hash "$r" "${BASH_REMATCH[1]}")
    fi
    fn=$((fn >> 1)) sn=$((sn >> 1))
  done
  ((sn == 0)) || fail "the audit path is shorter than the tree needs"
  ROOT=$r
}

# inclusion <file whose bytes are the leaf> <proof file> <index> <size> <expected root>
inclusion() {
  local leaf
  leaf=$({ printf '\x00'; cat "$1"; } | sha)
  load "$2"
  ((${#L[@]} >= 3)) && [[ ${L[0]} == colend-inclusion-proof/v1 ]] || fail "$2 is not an inclusion proof"
  [[ ${L[1]} == "index: $3" && ${L[2]} == "size: $4" ]] ||
    fail "$2 should have index $3 and size $4, found '${L[1]}', '${L[2]}'"
  fold "$leaf" "$3" "$4" path "${L[@]:3}"
  [[ $ROOT == "$5" ]] || fail "$2 leads to root $ROOT, expected $5"
}

# state_proof <proof file> <state key> <value file> <state root>: section 4, state proof.
state_proof() {
  local f=$1 key=$2 h b n leaf
  load "$f"; n=${#L[@]}
  ((n >= 5 + BUCKET_BITS)) && [[ ${L[0]} == colend-state-proof/v1 ]] || fail "$f is not a state proof"
  [[ ${L[1]} == "key: $key" ]] || fail "$f proves '${L[1]}', expected key: $key"
  h=$(printf '%s' "$key" | sha); b=$((16#${h:0:4} % (1 << BUCKET_BITS)))  # first two bytes of H(key)
  [[ ${L[2]} == "bucket: $b" ]] || fail "$f: bucket should be $b, found '${L[2]}'"
  [[ ${L[3]} =~ ^index:\ $UINT$ && ${L[4]} =~ ^size:\ $UINT$ ]] || fail "$f: bad index or size line"
  leaf=$({ printf '\x00'; bytes "$(printf '%08x' "${#key}")"; printf '%s' "$key"; cat "$3"; } | sha)
  fold "$leaf" "${L[3]#index: }" "${L[4]#size: }" path "${L[@]:5:n-5-BUCKET_BITS}"
  leaf=$({ printf '\x00'; bytes "$ROOT"; } | sha)
  fold "$leaf" "$b" $((1 << BUCKET_BITS)) top "${L[@]:n-BUCKET_BITS}"
  [[ $ROOT == "$4" ]] || fail "$f: the value of $key does not lead to the state root $4"
}

# ---------------------------------------------------------------- certificates and signatures
# cert_ok <certificate pem> <unix seconds>: one certificate, issued by the CA, valid at that time.
cert_ok() {
  [[ $(grep -c -- '-----BEGIN' "$1") == 1 ]] &&
    [[ $(openssl verify -CAfile "$TMP/ca.pem" -attime "$2" "$1" 2>/dev/null) == "$1: OK" ]]
}
# sig_ok <certificate pem> <DER signature> <message file>: with the certificate's key, in the
# suite. openssl accepts only strict DER; in suite std the project also requires low S (s <= n/2).
sig_ok() {
  local text s
  openssl x509 -in "$1" -pubkey -noout >"$TMP/pub.pem" 2>/dev/null || return 1
  text=$(openssl pkey -pubin -in "$TMP/pub.pem" -noout -text 2>/dev/null) || return 1
  if [[ $SUITE == sm ]]; then
    [[ $text == *"ASN1 OID: SM2"* ]] && openssl pkeyutl -verify -pubin -inkey "$TMP/pub.pem" -rawin \
      -digest sm3 -pkeyopt distid:1234567812345678 -in "$3" -sigfile "$2" >/dev/null 2>&1
  else
    s=$(openssl asn1parse -inform DER -in "$2" 2>/dev/null | sed -n 's/.*prim: INTEGER *://p' | tail -1)
    [[ $s =~ ^[0-9A-F]{1,64}$ ]] && s=$(printf '%64s' "$s" | tr ' ' 0) || return 1
    [[ $text == *"NIST CURVE: P-256"* && ! $s > 7FFFFFFF800000007FFFFFFFFFFFFFFFDE737D56D38BCF4279DCE5617E3192A8 ]] &&
      openssl dgst -sha256 -verify "$TMP/pub.pem" -signature "$2" "$3" >/dev/null 2>&1
  fi
}
# signed_by <member id> <epoch> <signature> <message file> <block time ms>: fails unless the member
# is in that epoch's members.txt, its certificate is valid then, and the signature verifies.
signed_by() {
  local pem=consortium/epoch-$(printf '%06d' "$2")/$1.pem
  grep -qxF -- "$1" "consortium/epoch-$(printf '%06d' "$2")/members.txt" || fail "$1 is not a member of epoch $2"
  cert_ok "$pem" $(($5 / 1000)) || fail "certificate of $1 (epoch $2) is not issued by the CA or not valid at $(($5 / 1000))"
  sig_ok "$pem" "$3" "$4" || fail "signature $3 does not verify with the $SUITE key of $1 (or is not in canonical form)"
  KEY=$(sha "$TMP/pub.pem")
}

# ---------------------------------------------------------------- text helpers
# pem_json <pem file>: the PEM as a normalised document writes it (\n for line ends, no spaces).
pem_json() { sed 's/$/\\n/' "$1" | tr -d ' \t\r\n'; }
# json_one <normalised document> <key> <value ERE>: sets JV to the key's value, which must occur
# exactly once. Strings keep their quotes; the ERE is followed by , or } in the document.
json_one() {
  local n v
  n=$(grep -o -F "\"$2\":" "$1" | wc -l)
  ((n == 1)) || fail "$(basename "$1"): key \"$2\" occurs $n times, expected once"
  v=$(grep -o -E "\"$2\":$3[,}]" "$1") || fail "$(basename "$1"): \"$2\" has an unexpected value"
  v=${v#\"$2\":}; JV=${v%?}
}
# header <block directory>: reads header.txt (section 5) into HD[key] and checks its form.
header() {
  local keys=(chain-id height prev-block-hash timestamp-ms proposer tx-count tx-root state-root
    ledger-size ledger-root membership-epoch membership-sha256) i v
  local pats=('[a-z0-9._-]{1,128}' "$UINT" '[0-9a-f]{64}' "$UINT" '[^[:cntrl:]]+'
    "$UINT" '[0-9a-f]{64}' '[0-9a-f]{64}' "$UINT" '[0-9a-f]{64}' "$UINT" '[0-9a-f]{64}')
  load "$1/header.txt"
  ((${#L[@]} == 13)) && [[ ${L[0]} == colend-block-header/v1 ]] || fail "$1/header.txt is not a 13-line header"
  declare -gA HD=()
  for i in "${!keys[@]}"; do
    v=${L[i + 1]}
    [[ $v =~ ^${keys[i]}:\ ${pats[i]}$ ]] || fail "$1/header.txt line $((i + 2)) '$v' is not a valid ${keys[i]}"
    HD[${keys[i]}]=${v#*: }
  done
}

# ---------------------------------------------------------------- the checks
# bundle.txt (section 3): sets CHAIN SUITE LOAN N A; any of them is left empty when malformed.
CHAIN= SUITE= LOAN= N= A=
read_bundle() {
  local keys=(chain-id suite loan records anchor-height exported-by exported-at-ms) i
  local pats=('[a-z0-9._-]{1,128}' '(std|sm)' '[A-Za-z0-9._-]{1,64}' "$UINT" "$UINT" '[a-z0-9-]{1,64}' "$UINT")
  local -a B
  mapfile -t B <bundle.txt
  [[ ${#B[@]} == 8 && ${B[0]} == colend-evidence-bundle/v1 && $(tail -c1 bundle.txt | wc -l) == 1 ]] || return 1
  for i in "${!keys[@]}"; do [[ ${B[i + 1]} =~ ^${keys[i]}:\ ${pats[i]}$ ]] || return 1; done
  CHAIN=${B[1]#*: } SUITE=${B[2]#*: } LOAN=${B[3]#*: } N=${B[4]#*: } A=${B[5]#*: }
}

check_layout() {  # every file inside the layout of section 2, nothing else; bundle.txt well formed
  local p count=0
  for p in **; do
    [[ -L $p ]] && fail "$p is a symbolic link"
    [[ -d $p ]] && continue
    [[ $p != *..* && $p != /* ]] || fail "path '$p' contains '..' or starts with '/'"
    [[ -f $p && $p =~ $LAYOUT ]] || fail "'$p' is not part of the bundle layout"
    count=$((count + 1))
  done
  [[ -n $A ]] || fail "bundle.txt is not the 8 lines of colend-evidence-bundle/v1"
  echo "$count files, all inside the layout; bundle.txt: loan $LOAN, $N records, anchor $A, suite $SUITE"
}

check_trust() {  # section 6 step 2
  local fp
  [[ -f trust/ca.pem && $(grep -c -- '-----BEGIN' trust/ca.pem) == 1 ]] || fail "trust/ca.pem must hold one certificate"
  openssl x509 -in trust/ca.pem -out "$TMP/ca.pem" 2>/dev/null || fail "trust/ca.pem is not a certificate"
  fp=$(openssl x509 -in trust/ca.pem -outform DER | sha)
  [[ $fp == "$FP" ]] || fail "trust/ca.pem has fingerprint $fp, expected $FP (the out-of-band value)"
  [[ -f consortium/epoch-000000.json ]] || fail "consortium/epoch-000000.json (the genesis file) is missing"
  tr -d ' \t\r\n' <consortium/epoch-000000.json >"$TMP/epoch-000000.json"
  json_one "$TMP/epoch-000000.json" ca_certificate '"[^"]*"'
  [[ $JV == "\"$(pem_json trust/ca.pem)\"" ]] || fail "the genesis file's ca_certificate is not trust/ca.pem"
  if [[ -n $GENESIS ]]; then
    fp=$(sha consortium/epoch-000000.json)
    [[ $fp == "$GENESIS" ]] || fail "the genesis file hashes to $fp, expected $GENESIS"
  fi
  touch "$TMP/ok-trust"
  echo "root CA fingerprint $FP matches; the genesis file names this CA${GENESIS:+; genesis hash matches}"
}

# members <epoch> <normalised document>: the members[] array, bound to members.txt and the pems.
members() {
  local E=$1 dir i=0 first=-1 id ids=() line
  local -a D
  dir=consortium/epoch-$(printf '%06d' "$E")
  [[ $(grep -o -F '"members":[' "$2" | wc -l) == 1 ]] || fail "epoch $E: expected one members array"
  mapfile -t D < <(sed 's/{"id":/\n&/g' "$2")
  for i in "${!D[@]}"; do [[ ${D[i]} == *'"members":[' ]] && first=$((i + 1)); done
  for ((i = first; i > 0 && i < ${#D[@]}; i++)); do
    [[ ${D[i]} =~ $MEMBER ]] || fail "epoch $E: member object $((i - first + 1)) is not of the expected form"
    id=${BASH_REMATCH[1]}; ids+=("$id")
    [[ -f $dir/$id.pem && $(grep -c -- '-----BEGIN' "$dir/$id.pem") == 1 ]] || fail "$dir/$id.pem is missing or not one certificate"
    [[ ${BASH_REMATCH[5]} == "$(pem_json "$dir/$id.pem")" ]] || fail "$dir/$id.pem is not the signing_certificate of $id in the document"
    [[ ${BASH_REMATCH[9]} == ']' ]] && break
    ((${#BASH_REMATCH[0]} == ${#D[i]})) || fail "epoch $E: unexpected text after member $id"
  done
  ((${#ids[@]} > 0 && i < ${#D[@]})) || fail "epoch $E: the members array is empty or unterminated"
  [[ $(printf '%s\n' "${ids[@]}" | sort -u | sha) == "$(sha "$dir/members.txt")" ]] ||
    fail "$dir/members.txt is not exactly the document's ${#ids[@]} member ids, sorted, each once"
  line=("$dir"/*.pem)
  ((${#line[@]} == ${#ids[@]})) || fail "$dir holds ${#line[@]} pem files for ${#ids[@]} members"
  NMEM=${#ids[@]}
}

check_membership() {  # section 6 step 3; writes $TMP/epochs: "<epoch> <start height> <quorum> <sha256>"
  local AE E f n start=1 prev_start=0 prev_sha rule q summary= list dirs
  [[ -f $TMP/ok-trust ]] || fail "not checked, because the trust check failed"
  AE=$(sed -n 's/^membership-epoch: //p' "blocks/$(printf '%012d' "$A")/header.txt" 2>/dev/null)
  [[ $AE =~ ^$UINT$ ]] || fail "cannot read membership-epoch of the anchor header"
  list=(consortium/epoch-*.json) dirs=(consortium/epoch-*/)
  ((${#list[@]} == AE + 1 && ${#dirs[@]} == AE + 1)) ||
    fail "expected documents and member folders of epochs 0..$AE (the anchor's), found ${#list[@]} and ${#dirs[@]}"
  for ((E = 0; E <= AE; E++)); do
    f=consortium/epoch-$(printf '%06d' "$E").json
    [[ -f $f ]] || fail "$f is missing"
    n=$TMP/${f#consortium/}
    tr -d ' \t\r\n' <"$f" >"$n"
    json_one "$n" chain_id '"[^"]*"'
    [[ $JV == "\"$CHAIN\"" ]] || fail "$f: chain_id $JV, bundle.txt says $CHAIN"
    if ((E == 0)); then
      json_one "$n" format '"colend-genesis/v1"'
      json_one "$n" suite '"(std|sm)"'
      [[ $JV == "\"$SUITE\"" ]] || fail "the genesis suite is $JV, bundle.txt says $SUITE"
      json_one "$n" tx_time_window_ms "$UINT"
      echo "$JV" >"$TMP/window"
    else
      json_one "$n" format '"colend-membership/v1"'
      json_one "$n" epoch "$UINT"
      ((JV == E)) || fail "$f says epoch $JV"
      json_one "$n" previous_sha256 '"[0-9a-f]{64}"'
      [[ $JV == "\"$prev_sha\"" ]] || fail "$f: previous_sha256 $JV is not the hash of epoch $((E - 1)), $prev_sha"
      json_one "$n" start_height "$UINT"
      start=$JV
      ((start > prev_start && start >= 2)) || fail "$f: start_height $start does not increase (previous $prev_start) or is below 2"
    fi
    json_one "$n" quorum '"(majority|two-thirds)"'
    rule=${JV//\"/}
    members "$E" "$n"
    if [[ $rule == majority ]]; then q=$((NMEM / 2 + 1)); else q=$((2 * NMEM / 3 + 1)); fi
    prev_sha=$(sha "$f") prev_start=$start
    echo "$E $start $q $prev_sha" >>"$TMP/epochs"
    summary+="${summary:+; }epoch $E from height $start, $NMEM members, quorum $q ($rule)"
  done
  touch "$TMP/ok-membership"
  echo "$summary"
}

check_block() {  # check_block <height> <lower block's height, or empty>: section 6 step 4
  local h=$1 d=blocks/$(printf '%012d' "$1") E= e s q sh eq esha m count keys= ts round
  [[ -f $TMP/ok-membership ]] || fail "not checked, because the membership check failed"
  ((h == A)) || [[ -f $TMP/ok-block-$A ]] || fail "not checked, because the anchor block $A failed"
  header "$d"
  ts=${HD[timestamp-ms]}
  [[ ${HD[chain-id]} == "$CHAIN" && ${HD[height]} == "$h" && ${HD[ledger-size]} == "$h" ]] ||
    fail "header: chain-id/height/ledger-size are ${HD[chain-id]}/${HD[height]}/${HD[ledger-size]}, expected $CHAIN/$h/$h"
  while read -r e s q sh; do ((s <= h)) && E=$e eq=$q esha=$sh; done <"$TMP/epochs"
  [[ -n $E && ${HD[membership-epoch]} == "$E" ]] || fail "header names epoch ${HD[membership-epoch]}, but epoch ${E:-none} governs height $h"
  [[ ${HD[membership-sha256]} == "$esha" ]] || fail "membership-sha256 is not the hash of the epoch $E document"
  load "$d/round.txt"
  [[ ${#L[@]} == 1 && ${L[0]} =~ ^$UINT$ ]] || fail "$d/round.txt is not one decimal number"
  round=${L[0]}
  printf 'colend-vote/v1\nchain-id: %s\nepoch: %s\nheight: %s\nround: %s\nphase: precommit\nblock-hash: %s\n' \
    "$CHAIN" "$E" "$h" "$round" "$(sha "$d/header.txt")" >"$TMP/vote"
  for m in "$d"/endorsements/*.der; do
    signed_by "$(basename "$m" .der)" "$E" "$m" "$TMP/vote" "$ts"
    keys+=$KEY$'\n'
  done
  count=$(printf '%s' "$keys" | sort -u | grep -c .)  # distinct keys, so no key counts twice
  ((count >= eq)) || fail "$count valid endorsements by distinct keys, but epoch $E needs a quorum of $eq"
  if [[ -n $2 ]]; then
    s=$(sed -n 's/^timestamp-ms: //p' "blocks/$(printf '%012d' "$2")/header.txt")
    [[ $s =~ ^$UINT$ ]] && ((s < ts)) || fail "timestamp $ts is not after block $2's ($s)"
  fi
  if ((h < A)); then  # a bundle ships only the blocks of the loan's records, each epoch's last, and the anchor
    grep -qx "height: $h" /dev/null records/*/receipt.txt || grep -q "^[1-9][0-9]* $((h + 1)) " "$TMP/epochs" ||
      fail "holds no record of loan $LOAN and ends no epoch; only those blocks and the anchor belong in a bundle"
    inclusion "$d/header.txt" "$d/ledger-proof.txt" "$h" "$A" \
      "$(sed -n 's/^ledger-root: //p' "blocks/$(printf '%012d' "$A")/header.txt")"
  else
    ((h == A)) || fail "height $h is above the anchor height $A"
    [[ ! -e $d/ledger-proof.txt ]] || fail "the anchor block must not have a ledger-proof.txt"
  fi
  touch "$TMP/ok-block-$h"
  echo "epoch $E, $count endorsements (quorum $eq), round $round, time $ts, $( ((h < A)) && echo "in the anchor's ledger" || echo "the anchor")"
}

# check_epoch_proof <epoch >= 1>: section 6 step 3, its adoption. The last block of the epoch before
# (start_height - 1, already checked under that epoch's quorum) must hold the document's exact bytes
# in its state at membership/epoch/<epoch, 20 digits>; by induction from the genesis file, each
# epoch's members are then those the chain adopted, not whatever the bundle's author wrote.
check_epoch_proof() {
  local E=$1 e s q sh start= b f
  while read -r e s q sh; do ((e == E)) && start=$s; done <"$TMP/epochs"
  [[ -n $start ]] || fail "epoch $E is not among the checked epochs"
  b=$((start - 1)) f=consortium/epoch-$(printf '%06d' "$E")
  [[ -f $TMP/ok-block-$b ]] ||
    fail "block $b (the last of epoch $((E - 1)), which must hold this document) is not in the bundle or did not verify"
  [[ -f $f-proof.txt ]] || fail "$f-proof.txt is missing"
  header "blocks/$(printf '%012d' "$b")"
  state_proof "$f-proof.txt" "membership/epoch/$(printf '%020d' "$E")" "$f.json" "${HD[state-root]}"
  echo "its document is in the state of block $b, endorsed by a quorum of epoch $((E - 1))"
}

check_record() {  # check_record <seq>: section 6 step 5
  local k=$1 d=records/$(printf '%06d' "$1") f txid sigsha sender type tts height index status bts prev key=
  for f in tx.txt tx.sig leaf.txt tx-proof.txt receipt.txt receipt-proof.txt; do [[ -f $d/$f ]] || fail "$d/$f is missing"; done
  txid=$(sha "$d/tx.txt") sigsha=$(sha "$d/tx.sig")
  [[ $(sha "$d/leaf.txt") == $(printf 'colend-tx-leaf/v1\ntx-id: %s\nsig-sha256: %s\n' "$txid" "$sigsha" | sha) ]] ||
    fail "$d/leaf.txt is not the leaf of tx.txt (id $txid) and tx.sig"
  load "$d/tx.txt"
  ((${#L[@]} >= 6)) && [[ ${L[0]} == colend-tx/v1 && ${L[1]} == "chain-id: $CHAIN" ]] ||
    fail "$d/tx.txt is not a colend-tx/v1 of chain $CHAIN"
  [[ ${L[2]} =~ ^sender:\ ([a-z0-9._-]{1,128})$ ]] && sender=${BASH_REMATCH[1]} &&
    [[ ${L[3]} =~ ^nonce:\ (0|[1-9][0-9]{0,19})$ && ${L[4]} =~ ^timestamp-ms:\ $UINT$ ]] && tts=${L[4]#*: } &&
    [[ ${L[5]} =~ ^type:\ ([a-z0-9._-]{1,128})$ ]] && type=${BASH_REMATCH[1]} || fail "$d/tx.txt: malformed header lines"
  for f in "${L[@]:6}"; do
    [[ $f =~ ^([a-z0-9-]{1,64}):\ [^[:cntrl:]]*$ && ${BASH_REMATCH[1]} > $key ]] || fail "$d/tx.txt: bad or unordered field line '$f'"
    key=${BASH_REMATCH[1]}
  done
  load "$d/receipt.txt"
  ((${#L[@]} >= 10)) && [[ ${L[0]} == colend-receipt/v1 && ${L[1]} == "tx-id: $txid" && ${L[2]} =~ ^height:\ $UINT$ &&
    ${L[3]} =~ ^index:\ $UINT$ && ${L[6]} =~ ^status:\ (accepted|rejected)$ ]] ||
    fail "$d/receipt.txt is not the receipt of tx $txid"
  height=${L[2]#*: } index=${L[3]#*: } status=${L[6]#*: }
  [[ -f $TMP/ok-block-$height ]] || fail "its block $height is not in the bundle or did not verify"
  header "blocks/$(printf '%012d' "$height")"
  bts=${HD[timestamp-ms]}
  signed_by "$sender" "${HD[membership-epoch]}" "$d/tx.sig" "$d/tx.txt" "$bts"
  inclusion "$d/leaf.txt" "$d/tx-proof.txt" "$index" "${HD[tx-count]}" "${HD[tx-root]}"
  f=$((tts - bts)); ((f < 0)) && f=$((-f))
  ((f <= $(cat "$TMP/window"))) || fail "tx time $tts is $f ms from block $height's time; the window is $(cat "$TMP/window") ms"
  header "blocks/$(printf '%012d' "$A")"
  state_proof "$d/receipt-proof.txt" "tx/$txid" "$d/receipt.txt" "${HD[state-root]}"
  if ((k > 1)); then
    prev=$(sed -n 's/^height: //p' "records/$(printf '%06d' $((k - 1)))/receipt.txt")
    [[ $prev =~ ^$UINT$ ]] && ((prev <= height)) || fail "height $height is below record $((k - 1))'s ($prev)"
  fi
  touch "$TMP/ok-record-$k"
  echo "$type by $sender, tx $txid, block $height index $index, $status"
}

check_loan_records() {  # section 6 step 6
  local f head=0000000000000000000000000000000000000000000000000000000000000000 k root
  [[ -f $TMP/ok-block-$A ]] || fail "not checked, because the anchor block $A did not verify"
  header "blocks/$(printf '%012d' "$A")"; root=${HD[state-root]}
  load state/loan-records.txt
  [[ ${#L[@]} == 5 && ${L[0]} == colend-loan-records/v1 && ${L[1]} == "loan: $LOAN" && ${L[2]} =~ ^count:\ $UINT$ &&
    ${L[3]} =~ ^events:\ $UINT$ && ${L[4]} =~ ^head:\ [0-9a-f]{64}$ ]] ||
    fail "state/loan-records.txt is not the record chain of loan $LOAN (loan, count, events, head)"
  [[ ${L[2]#*: } == "$N" ]] || fail "the chain counts ${L[2]#*: } records, bundle.txt claims $N"
  state_proof state/loan-records-proof.txt "loan-records/$LOAN" state/loan-records.txt "$root"
  state_proof state/loan-proof.txt "loan/$LOAN" state/loan.json "$root"
  load state/loan-records.txt
  f=(records/*/) && ((${#f[@]} == N)) || fail "records/ holds ${#f[@]} folders, expected exactly 000001..$N"
  for ((k = 1; k <= N; k++)); do
    f=records/$(printf '%06d' "$k")/tx.txt
    [[ -f $f ]] || fail "$f is missing"
    head=$(printf 'colend-loan-record/v1\nprev: %s\nseq: %s\ntx-id: %s\n' "$head" "$k" "$(sha "$f")" | sha)
  done
  [[ ${L[4]} == "head: $head" ]] || fail "the records give head $head, the chain state says ${L[4]#head: }"
  touch "$TMP/ok-loan-records"
  echo "the anchor's state holds loan $LOAN with $N records whose chain head is $head; loan.json proven"
}

check_events() {  # section 6 step 7
  local f seq tx ids= n=0 k
  [[ -f $TMP/ok-loan-records ]] || fail "not checked, because the loan-records check failed"
  header "blocks/$(printf '%012d' "$A")"
  for ((k = 1; k <= N; k++)); do ids+=$(sha "records/$(printf '%06d' "$k")/tx.txt")$'\n'; done
  for f in state/events/*; do
    seq=${f:13:12}
    [[ -f state/events/$seq.json && -f state/events/$seq-proof.txt ]] || fail "event $seq lacks its .json or its -proof.txt"
    [[ $f == *.json ]] || continue
    state_proof "state/events/$seq-proof.txt" "loan-event/$LOAN/$seq" "$f" "${HD[state-root]}"
    tx=$(grep -o '"tx":"*[0-9a-f]*' "$f")
    [[ $tx =~ ^\"tx\":\"([0-9a-f]{64})$ ]] && grep -qxF -- "${BASH_REMATCH[1]}" <<<"$ids" ||
      fail "event $seq does not name exactly one transaction among the records"
    n=$((n + 1))
  done
  k=$(sed -n 's/^events: //p' state/loan-records.txt)
  ((n == k)) || fail "the chain holds $k events of loan $LOAN, the bundle ships $n"
  echo "$n events of the loan (all of them), each proven at the anchor and produced by one of its records"
}

check_documents() {  # section 6 step 8
  local k d x want=() f recs=(records/*/)
  for ((k = 1; k <= ${#recs[@]}; k++)); do  # the folders there are, not bundle.txt's claim
    d=records/$(printf '%06d' "$k")
    [[ $(sed -n 6p "$d/tx.txt" 2>/dev/null) == 'type: evidence.attach' &&
      $(sed -n 7p "$d/receipt.txt" 2>/dev/null) == 'status: accepted' ]] || continue
    [[ -f $TMP/ok-record-$k ]] || fail "record $k (evidence.attach) did not verify"
    x=$(sed -n 's/^document-sha256: //p' "$d/tx.txt")
    [[ $x =~ $HEX64 ]] || fail "record $k: no single valid document-sha256"
    [[ -f documents/$x ]] || fail "document $x attached by record $k is missing from documents/"
    want+=("$x")
  done
  for f in documents/*; do
    x=$(sha "$f")
    [[ $x == "${f#documents/}" ]] || fail "$f hashes to $x"
    printf '%s\n' "${want[@]}" | grep -qxF -- "$x" || fail "$f is not named by an accepted evidence.attach record"
  done
  f=(documents/*)
  echo "${#f[@]} documents, each hashing to its name and attached by an accepted record (${#want[@]} attachments)"
}

# ---------------------------------------------------------------- main
read_bundle
run layout check_layout
for p in **; do  # nothing below may follow a link or read a device
  if [[ -L $p || ! ( -f $p || -d $p ) ]]; then
    echo "verify.sh: stopping: '$p' is a symbolic link or not a regular file; $CHECKS checks, $((FAILED + 1)) failed"
    exit 1
  fi
done
run trust check_trust
run membership check_membership
heights=()
for d in blocks/*/; do d=${d#blocks/}; [[ $d =~ ^[0-9]{12}/$ ]] && heights+=($((10#${d%/}))); done
[[ $A =~ ^[0-9]+$ ]] && run "block $A" check_block "$A" "$(for h in "${heights[@]}"; do ((h < A)) && echo "$h"; done | tail -1)"
prev=
for h in "${heights[@]}"; do
  [[ $h == "$A" ]] || run "block $h" check_block "$h" "$prev"
  prev=$h
done
if [[ -f $TMP/epochs ]]; then
  for ((E = 1; E < $(grep -c . "$TMP/epochs"); E++)); do run "membership epoch $E adopted" check_epoch_proof "$E"; done
fi
for ((k = 1; k <= ${N:-0}; k++)); do
  run "record $k" check_record "$k"
  [[ -d records/$(printf '%06d' "$k") ]] || break  # bundle.txt's count is a claim: stop at a gap
done
run loan-records check_loan_records
run events check_events
run documents check_documents
echo "verify.sh: $CHECKS checks, $FAILED failed"
((FAILED == 0))
