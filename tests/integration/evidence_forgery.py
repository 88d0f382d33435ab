"""The remaining cases of the evidence suite and the tables of every case; evidence_test.py is
the entry point and its docstring says what the suite proves. Here: a lone member's whole chain
on a genesis of its own (caught only by the genesis pin), a wrong pin or fingerprint, ZIP names,
extra files and MANIFEST cases, the controls, the questions the format leaves open, and
TAMPER_CASES, CONTROL_CASES, QUICK_CASES and INFO_CASES (evidence_tamper.py's cases first).
"""
import hashlib
import json
import os

from evidence_bundle import RUN, fields, flip_line, set_line, sha, sign
from evidence_tamper import (case_anchor_below_quorum, case_anchor_lowered, case_blocks_reordered,
                             case_bundle_txt_loan, case_document_removed,
                             case_duplicated_endorsement, case_duplicated_endorsement_new_name,
                             case_endorsement_below_quorum, case_endorsement_from_other_block,
                             case_event_dropped, case_event_dropped_count_edited,
                             case_flip_anchor_endorsement, case_flip_anchor_header,
                             case_flip_bundle_txt, case_flip_document, case_flip_endorsement,
                             case_flip_event, case_flip_header, case_flip_leaf, case_flip_loan_json,
                             case_flip_loan_records_proof, case_flip_receipt,
                             case_flip_receipt_proof, case_flip_tx, case_flip_tx_sig,
                             case_foreign_record_inserted, case_foreign_record_replaced,
                             case_forged_membership_epoch1, case_forged_membership_genesis,
                             case_last_record_removed, case_last_record_removed_count_kept,
                             case_lookalike_ca, case_lookalike_ca_own_fp, case_member_pem_swapped,
                             case_members_txt_edited, case_merkle_index_ledger,
                             case_merkle_index_state, case_merkle_index_tx,
                             case_merkle_inner_node_as_leaf, case_merkle_other_ledger_proof,
                             case_merkle_other_receipt_proof, case_merkle_other_state_proof,
                             case_merkle_sibling, case_outsider_endorsement, case_outsider_member,
                             case_record_appended, case_record_removed_middle,
                             case_records_reordered, case_resigned_record, case_round_changed,
                             case_timestamp_outside_window, case_tx_sig_from_other_record,
                             case_unreferenced_block, middle_record, rec)
from netlib import home


# ---- a lone member's own chain: consistent in every hash, caught only by the genesis pin ------

def mth(leaves):
    """RFC 6962 Merkle tree hash over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def audit_path(m, leaves):
    """RFC 6962 PATH(m, D[n]), leaf to root."""
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def state_proofs(entries):
    """A state holding exactly entries {key: value} (docs/evidence-bundle.md section 4): the
    root and each key's proof text."""
    top_levels = 16
    buckets = {}
    for key in sorted(entries, key=lambda k: k.encode()):
        b = int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big")
        buckets.setdefault(b, []).append(key)

    def entry_leaf(key):
        k = key.encode()
        return leaf_hash(len(k).to_bytes(4, "big") + k + entries[key].encode())

    roots = {b: mth([entry_leaf(k) for k in keys]) for b, keys in buckets.items()}
    level = [leaf_hash(hashlib.sha256(b"").digest())] * (1 << top_levels)
    for b, r in roots.items():
        level[b] = leaf_hash(r)
    levels = [level]
    for _ in range(top_levels):
        prev = levels[-1]
        levels.append([hashlib.sha256(b"\x01" + prev[2 * i] + prev[2 * i + 1]).digest()
                       for i in range(len(prev) // 2)])
    proofs = {}
    for b, keys in buckets.items():
        top = [levels[l][(b >> l) ^ 1].hex() for l in range(top_levels)]
        leaves = [entry_leaf(k) for k in keys]
        for i, key in enumerate(keys):
            proofs[key] = (f"colend-state-proof/v1\nkey: {key}\nbucket: {b}\nindex: {i}\n"
                           f"size: {len(keys)}\n" + "".join(f"path: {h.hex()}\n" for h in audit_path(i, leaves))
                           + "".join(f"top: {h}\n" for h in top))
    return levels[-1][0], proofs


def case_lone_member_genesis(b, via_epoch=False):
    """One member (the lead bank) writes a genesis listing only itself, keeps only the records it
    signed itself (no approval, funding by the partner, payout or repayment), and builds a whole
    chain for them: headers, its own endorsements, ledger and state trees, the loan's record chain.
    The CA fingerprint cannot tell; the genesis pin must (README: "Pin the genesis too").
    via_epoch: the real genesis file instead (so the pin matches), and a membership epoch 1 of its
    own listing only itself from height 2, linked to the genesis by previous_sha256, governing
    every block of the bundle; only the proof that epoch 0 adopted it can tell."""
    forger = RUN.facts.records[0]["f"]["sender"]
    key = RUN.keys[forger]
    genesis = json.loads(RUN.facts.epochs[0]["raw"])
    genesis["members"] = [m for m in genesis["members"] if m["id"] == forger]
    genesis["quorum"] = "majority"
    genesis_raw = (json.dumps(genesis, indent=2, ensure_ascii=False) + "\n").encode()
    epoch, governing_raw = 0, genesis_raw
    if via_epoch:
        genesis_raw = RUN.facts.epochs[0]["raw"]
        member = next(m for e in RUN.facts.epochs for m in e["doc"]["members"] if m["id"] == forger)
        forged = {"format": "colend-membership/v1", "chain_id": RUN.facts.chain, "epoch": 1,
                  "start_height": 2, "previous_sha256": sha(genesis_raw), "quorum": "majority",
                  "members": [member], "proposal": "0" * 64, "approvals": [forger]}
        epoch, governing_raw = 1, json.dumps(forged, sort_keys=True, separators=(",", ":")).encode()
    kept = [r for r in RUN.facts.records if r["f"]["sender"] == forger]
    ids = {r["id"] for r in kept}
    events = [(n, b.get(n)) for n in sorted(b.names("state/events/"))
              if n.endswith(".json") and json.loads(b.get(n)).get("tx") in ids]

    # the loan's record chain and the state at the anchor
    head = "0" * 64
    for seq, r in enumerate(kept, 1):
        head = sha(f"colend-loan-record/v1\nprev: {head}\nseq: {seq}\ntx-id: {r['id']}\n".encode())
    entries = {f"tx/{r['id']}": b.text(r["dir"] + "receipt.txt") for r in kept}
    entries[f"loan-records/{RUN.facts.loan}"] = (f"colend-loan-records/v1\nloan: {RUN.facts.loan}\n"
                                            f"count: {len(kept)}\nevents: {len(events)}\nhead: {head}\n")
    entries[f"loan/{RUN.facts.loan}"] = b.text("state/loan.json")
    for n, data in events:
        entries[f"loan-event/{RUN.facts.loan}/{os.path.basename(n)[:-5]}"] = data.decode()
    state_root, proofs = state_proofs(entries)

    # each block's transactions: the kept records at their receipt index, invented ones around
    heights = sorted({r["height"] for r in kept})
    txs = {}
    for h in heights:
        at = {int(r["receipt"]["index"]): r for r in kept if r["height"] == h}
        txs[h] = [leaf_hash(b.get(at[i]["dir"] + "leaf.txt")) if i in at else
                  leaf_hash(f"invented transaction {h}/{i}".encode()) for i in range(max(at) + 1)]
    # a chain of headers 0..A; only the kept records' blocks are real headers
    anchor = heights[-1]
    real = {h: b.text(RUN.facts.block_dir(h) + "header.txt") for h in heights}
    headers, prev = [], "0" * 64
    for h in range(anchor + 1):
        if h in real:
            f = fields(real[h])
            text = real[h]
            for k, v in (("prev-block-hash", prev), ("proposer", forger), ("tx-count", len(txs[h])),
                         ("tx-root", mth(txs[h]).hex()),
                         ("state-root", state_root.hex() if h == anchor else f["state-root"]),
                         ("ledger-root", mth([leaf_hash(x) for x in headers]).hex()),
                         ("membership-epoch", epoch), ("membership-sha256", sha(governing_raw))):
                text = set_line(text, k, v)
        else:
            text = f"invented block {h} of the lone member's chain\n"
        headers.append(text.encode())
        prev = sha(headers[-1])
    ledger = [leaf_hash(x) for x in headers[:anchor]]

    for n in b.names("blocks/") + b.names("records/") + b.names("state/") + b.names("consortium/"):
        b.delete(n)
    b.put("consortium/epoch-000000.json", genesis_raw)
    if via_epoch:
        for n in RUN.facts.b.names("consortium/epoch-000000/"):
            b.put(n, RUN.facts.b.get(n))
        b.put("consortium/epoch-000001.json", governing_raw)
    d = f"consortium/epoch-{epoch:06d}/"
    b.put(d + "members.txt", forger + "\n")
    b.put(d + f"{forger}.pem", genesis["members"][0]["signing_certificate"])
    for h in heights:
        d = RUN.facts.block_dir(h)
        b.put(d + "header.txt", headers[h])
        b.put(d + "round.txt", "0\n")
        vote = (f"colend-vote/v1\nchain-id: {RUN.facts.chain}\nepoch: {epoch}\nheight: {h}\nround: 0\n"
                f"phase: precommit\nblock-hash: {sha(headers[h])}\n").encode()
        b.put(d + f"endorsements/{forger}.der", sign(key, vote))
        if h != anchor:
            b.put(d + "ledger-proof.txt", f"colend-inclusion-proof/v1\nindex: {h}\nsize: {anchor}\n"
                  + "".join(f"path: {x.hex()}\n" for x in audit_path(h, ledger)))
    for seq, r in enumerate(kept, 1):
        d = f"records/{seq:06d}/"
        for name in ("tx.txt", "tx.sig", "leaf.txt", "receipt.txt"):
            b.put(d + name, RUN.facts.b.get(r["dir"] + name))
        i = int(r["receipt"]["index"])
        b.put(d + "tx-proof.txt", f"colend-inclusion-proof/v1\nindex: {i}\nsize: {len(txs[r['height']])}\n"
              + "".join(f"path: {x.hex()}\n" for x in audit_path(i, txs[r["height"]])))
        b.put(d + "receipt-proof.txt", proofs[f"tx/{r['id']}"])
    b.put("state/loan-records.txt", entries[f"loan-records/{RUN.facts.loan}"])
    b.put("state/loan-records-proof.txt", proofs[f"loan-records/{RUN.facts.loan}"])
    b.put("state/loan.json", entries[f"loan/{RUN.facts.loan}"])
    b.put("state/loan-proof.txt", proofs[f"loan/{RUN.facts.loan}"])
    for n, data in events:
        b.put(n, data)
        b.put(n[:-5] + "-proof.txt",
              proofs[f"loan-event/{RUN.facts.loan}/{os.path.basename(n)[:-5]}"])
    for r in RUN.facts.records:
        if r["id"] not in ids and r["f"]["type"] == "evidence.attach":
            b.delete("documents/" + r["f"]["document-sha256"])
    info = b.text("bundle.txt")
    for k, v in (("records", len(kept)), ("anchor-height", anchor), ("exported-by", forger)):
        info = set_line(info, k, v)
    b.put("bundle.txt", info)
    b.pin = sha(RUN.facts.epochs[0]["raw"])
    dropped = sorted({r["f"]["type"] for r in RUN.facts.records if r["id"] not in ids})
    if via_epoch:
        return (f"{forger} alone: the real genesis, then a membership epoch 1 of its own listing only "
                f"itself from height 2, its {len(kept)} own records, its own chain and endorsements; "
                f"verified WITH the real --genesis-sha256"), b
    return (f"{forger} alone: a genesis listing only itself, its {len(kept)} own records (none of "
            f"{', '.join(dropped)}), its own chain and endorsements; verified WITH the real "
            f"--genesis-sha256"), b


def case_lone_member_epoch(b):
    return case_lone_member_genesis(b, via_epoch=True)


def case_document_symlink(b):
    """A document entry that unzip makes a symbolic link to /dev/zero: a verifier that hashes it
    never returns (verify.sh used to)."""
    name = b.names("documents/")[0]
    b.put_link(name, "/dev/zero")
    return f"{name} a symbolic link to /dev/zero", b


def case_epoch_field_wrong_type(b):
    """Numbers where a membership document has text (colend-verify used to abort on them)."""
    doc = json.loads(b.get("consortium/epoch-000001.json"))
    doc["format"], doc["previous_sha256"] = 1, 7
    b.put("consortium/epoch-000001.json", json.dumps(doc, sort_keys=True, separators=(",", ":")))
    return "consortium/epoch-000001.json with a number as format and as previous_sha256", b


def case_records_claimed_huge(b):
    """bundle.txt claims 10^8 records (both verifiers used to walk up to the count)."""
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", 100000000))
    return "bundle.txt claims 100000000 records", b


def case_epoch_after_anchor(b):
    """A well-formed epoch that starts after the anchor, linked to the last one, same members."""
    last = max(int(n[len("consortium/epoch-"):][:6]) for n in b.names("consortium/epoch-")
               if n.endswith(".json"))
    prev_raw = b.get(f"consortium/epoch-{last:06d}.json")
    doc = json.loads(prev_raw)
    doc.update(epoch=last + 1, start_height=RUN.facts.anchor + 1000, previous_sha256=sha(prev_raw))
    b.put(f"consortium/epoch-{last + 1:06d}.json", json.dumps(doc, sort_keys=True, separators=(",", ":")))
    for n in b.names(f"consortium/epoch-{last:06d}/"):
        b.put(n.replace(f"epoch-{last:06d}/", f"epoch-{last + 1:06d}/"), b.get(n))
    return f"an epoch {last + 1} starting at height {RUN.facts.anchor + 1000}, after the anchor", b


def case_lone_member_genesis_unpinned(b):
    what, b = case_lone_member_genesis(b)
    b.pin = None
    return what.replace("WITH the real --genesis-sha256", "without --genesis-sha256"), b


def case_wrong_genesis_pin(b):
    b.pin = sha(b"not the genesis")
    return "the untouched bundle with a wrong --genesis-sha256", b


def control_genesis_pin(b):
    b.pin = sha(RUN.facts.epochs[0]["raw"])
    return "the untouched bundle with the real --genesis-sha256", b


def case_wrong_fingerprint(b):
    b.fp = sha(b"not the consortium root CA")
    return "the untouched bundle with a wrong root fingerprint", b


def case_zip_dotdot(b):
    b.add("../evil.txt", "outside the bundle folder\n")
    return "a ZIP entry named ../evil.txt (verify.sh: unpacked as extra/, must refuse it)", b


def case_zip_dotdot_inner(b):
    b.add("records/../bundle.txt",
          b.text("bundle.txt").replace(f"records: {RUN.facts.n}", "records: 1"))
    return "a ZIP entry named records/../bundle.txt (a second bundle.txt once normalised)", b


def case_zip_absolute(b):
    b.add("/tmp/evil.txt", "absolute\n")
    return "a ZIP entry named /tmp/evil.txt", b


def case_zip_duplicate(b):
    r = middle_record()
    b.add(r["dir"] + "tx.txt", r["tx"] + "zz-extra: 1\n")
    return f"a second ZIP entry named {r['dir']}tx.txt (an unzip keeps the last one)", b


def case_extra_file(b):
    b.put("extra/evil.txt", "not in the layout\n")
    return "an extra file extra/evil.txt", b


def case_extra_file_in_record(b):
    b.put(rec(1)["dir"] + "note.txt", "not in the layout\n")
    return "an extra file records/000001/note.txt", b


def case_private_key_added(b):
    with open(os.path.join(home(1), "signing.key")) as f:
        b.put("trust/signing.key", f.read())
    return "a private key added as trust/signing.key", b


def case_manifest_rewritten(b):
    r = middle_record()
    b.put(r["dir"] + "receipt.txt", b.text(r["dir"] + "receipt.txt").replace("status: accepted", "status: rejected")
          if "status: accepted" in b.text(r["dir"] + "receipt.txt") else
          flip_line(b.text(r["dir"] + "receipt.txt"), "message:"))
    b.manifest = True
    return f"record {r['seq']}'s receipt.txt status changed, MANIFEST.sha256 rewritten to match it", b


def case_manifest_stale(b):
    r = middle_record()
    b.put(r["dir"] + "tx.txt", flip_line(r["tx"], "nonce:"))
    b.manifest = False
    return f"record {r['seq']}'s tx.txt nonce changed, MANIFEST.sha256 left stale", b


TAMPER_CASES = [
    ("flip-tx", case_flip_tx), ("flip-document", case_flip_document),
    ("flip-header", case_flip_header), ("flip-anchor-header", case_flip_anchor_header),
    ("flip-tx-sig", case_flip_tx_sig), ("flip-endorsement", case_flip_endorsement),
    ("flip-anchor-endorsement", case_flip_anchor_endorsement),
    ("flip-receipt", case_flip_receipt), ("flip-leaf", case_flip_leaf),
    ("flip-receipt-proof", case_flip_receipt_proof),
    ("flip-loan-records-proof", case_flip_loan_records_proof),
    ("flip-loan-json", case_flip_loan_json), ("flip-event", case_flip_event),
    ("bundle-txt-count", case_flip_bundle_txt), ("bundle-txt-loan", case_bundle_txt_loan),
    ("anchor-lowered", case_anchor_lowered), ("round-changed", case_round_changed),
    ("resigned-record", case_resigned_record),
    ("timestamp-outside-window", case_timestamp_outside_window),
    ("endorsement-below-quorum", case_endorsement_below_quorum),
    ("anchor-below-quorum", case_anchor_below_quorum),
    ("duplicated-endorsement", case_duplicated_endorsement),
    ("duplicated-endorsement-new-name", case_duplicated_endorsement_new_name),
    ("outsider-endorsement", case_outsider_endorsement),
    ("outsider-member-lookalike-ca", case_outsider_member),
    ("lookalike-ca", case_lookalike_ca), ("lookalike-ca-own-fp", case_lookalike_ca_own_fp),
    ("forged-membership-epoch1", case_forged_membership_epoch1),
    ("forged-membership-genesis", case_forged_membership_genesis),
    ("member-pem-swapped", case_member_pem_swapped),
    ("members-txt-edited", case_members_txt_edited),
    ("endorsement-from-other-block", case_endorsement_from_other_block),
    ("tx-sig-from-other-record", case_tx_sig_from_other_record),
    ("blocks-reordered", case_blocks_reordered), ("records-reordered", case_records_reordered),
    ("merkle-sibling", case_merkle_sibling), ("merkle-index-ledger", case_merkle_index_ledger),
    ("merkle-index-tx", case_merkle_index_tx), ("merkle-index-state", case_merkle_index_state),
    ("merkle-other-ledger-proof", case_merkle_other_ledger_proof),
    ("merkle-other-receipt-proof", case_merkle_other_receipt_proof),
    ("merkle-other-state-proof", case_merkle_other_state_proof),
    ("merkle-inner-node-as-leaf", case_merkle_inner_node_as_leaf),
    ("record-removed-middle", case_record_removed_middle),
    ("last-record-removed", case_last_record_removed),
    ("last-record-removed-count-kept", case_last_record_removed_count_kept),
    ("document-removed", case_document_removed), ("record-appended", case_record_appended),
    ("event-dropped", case_event_dropped),
    ("event-dropped-count-edited", case_event_dropped_count_edited),
    ("unreferenced-block", case_unreferenced_block),
    ("foreign-record-replaced", case_foreign_record_replaced),
    ("foreign-record-inserted", case_foreign_record_inserted),
    ("lone-member-genesis", case_lone_member_genesis),
    ("lone-member-epoch", case_lone_member_epoch),
    ("document-symlink", case_document_symlink),
    ("epoch-field-wrong-type", case_epoch_field_wrong_type),
    ("records-claimed-huge", case_records_claimed_huge),
    ("epoch-after-anchor", case_epoch_after_anchor),
    ("wrong-genesis-pin", case_wrong_genesis_pin),
    ("wrong-fingerprint", case_wrong_fingerprint),
    ("zip-dotdot", case_zip_dotdot), ("zip-dotdot-inner", case_zip_dotdot_inner),
    ("zip-absolute", case_zip_absolute), ("zip-duplicate-name", case_zip_duplicate),
    ("extra-file", case_extra_file), ("extra-file-in-record", case_extra_file_in_record),
    ("private-key-added", case_private_key_added),
    ("manifest-rewritten", case_manifest_rewritten), ("manifest-stale", case_manifest_stale),
]


# ---- controls: not evidence, must not change the verdict ----------------------------------------

def control_rezip(b):
    return "the untouched entries re-zipped by Python (the tamper cases' baseline)", b


def control_readme(b):
    b.put("README.txt", b.text("README.txt") + "An edited line.\n")
    b.manifest = False
    return "README.txt edited (MANIFEST.sha256 left stale)", b


def control_case_html(b):
    b.put("report/case.html", b.text("report/case.html").replace("</body>", "<p>edited</p></body>"))
    return "report/case.html edited (MANIFEST.sha256 rewritten)", b


def control_manifest_only(b):
    b.put("MANIFEST.sha256", b.text("MANIFEST.sha256").replace(sha(b.get("README.txt")), "0" * 64, 1))
    b.manifest = False
    return "MANIFEST.sha256 alone edited (README.txt's line zeroed)", b


CONTROL_CASES = [("control-rezip", control_rezip), ("control-readme", control_readme),
                 ("control-case-html", control_case_html),
                 ("control-manifest-only", control_manifest_only),
                 ("control-genesis-pin", control_genesis_pin)]


# ---- questions the format leaves open: printed, not counted -------------------------------------

def info_verify_sh_replaced(b):
    """The arbitrator runs the bundle's own tools/verify.sh: whoever made the bundle wrote it."""
    b.put("tools/verify.sh", "#!/usr/bin/env bash\necho 'PASS everything: trust me'\nexit 0\n")
    b.own_script = True
    return ("tools/verify.sh replaced by a script that prints PASS (run from the bundle even with "
            "--verify-sh), plus a flipped document"), case_flip_document(b)[1]


# --quick (what CI runs, for time: verify.sh costs seconds a run): one case for each tamper kind
# that docs/evidence-bundle.md and the issue list; the full list runs without --quick.
QUICK_CASES = {
    "flip-tx", "flip-document", "flip-header", "flip-tx-sig", "flip-endorsement", "flip-event",
    "resigned-record", "timestamp-outside-window", "endorsement-below-quorum",
    "duplicated-endorsement", "outsider-member-lookalike-ca", "forged-membership-genesis",
    "endorsement-from-other-block", "blocks-reordered", "merkle-sibling", "merkle-index-tx",
    "merkle-other-receipt-proof", "merkle-inner-node-as-leaf", "record-removed-middle",
    "last-record-removed", "event-dropped", "wrong-fingerprint", "zip-dotdot",
    "lone-member-genesis", "lone-member-epoch", "document-symlink", "epoch-field-wrong-type",
    "records-claimed-huge", "epoch-after-anchor",
}

INFO_CASES = [("info-verify-sh-replaced", info_verify_sh_replaced),
              ("info-lone-member-genesis-unpinned", case_lone_member_genesis_unpinned)]
