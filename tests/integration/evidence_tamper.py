"""The tamper cases of the evidence suite; evidence_test.py is the entry point and its docstring
says what the suite proves. Here: flipped bytes in each kind of file, re-signed records,
endorsements dropped, duplicated or by an outsider, forged membership, copied signatures,
reordered blocks and records, wrong Merkle paths, removed, appended and foreign records.
evidence_forgery.py holds the remaining cases and the tables that name them all.
"""
import hashlib
import json
import re

from evidence_bundle import (RUN, fields, flip_byte, flip_line, leaf_text, resign_record,
                             set_line, sha)


# ---- the tamper cases --------------------------------------------------------------------------
# Each takes a fresh copy of the untouched bundle and returns (description, bundle).

def rec(seq):
    return RUN.facts.records[seq - 1]


def middle_record():
    """A record in the middle, in an epoch-0 block that holds only it."""
    return rec(max(3, RUN.facts.n // 4))


def case_flip_tx(b):
    r = middle_record()
    b.put(r["dir"] + "tx.txt", flip_line(r["tx"], r["tx"].rstrip("\n").split("\n")[-1]))
    return f"record {r['seq']}'s tx.txt: last character of its last field changed", b


def case_flip_document(b):
    name = b.names("documents/")[0]
    b.put(name, flip_byte(b.get(name)))
    return f"{name}: one byte flipped", b


def case_flip_header(b):
    h = RUN.facts.record_blocks()[0]
    d = RUN.facts.block_dir(h)
    b.put(d + "header.txt", flip_line(b.text(d + "header.txt"), "state-root"))
    return f"block {h}'s header.txt: a hex digit of state-root changed", b


def case_flip_anchor_header(b):
    d = RUN.facts.block_dir(RUN.facts.anchor)
    b.put(d + "header.txt", flip_line(b.text(d + "header.txt"), "state-root"))
    return f"the anchor (block {RUN.facts.anchor}) header.txt: a hex digit of state-root changed", b


def case_flip_tx_sig(b):
    r = middle_record()
    b.put(r["dir"] + "tx.sig", flip_byte(b.get(r["dir"] + "tx.sig"), len(b.get(r["dir"] + "tx.sig")) - 3))
    return f"record {r['seq']}'s tx.sig: one byte of s flipped", b


def case_flip_endorsement(b):
    h = RUN.facts.record_blocks()[0]
    m = RUN.facts.endorsers(h)[0]
    name = RUN.facts.block_dir(h) + f"endorsements/{m}.der"
    b.put(name, flip_byte(b.get(name), len(b.get(name)) - 3))
    return f"block {h}: {m}'s endorsement, one byte flipped", b


def case_flip_anchor_endorsement(b):
    m = RUN.facts.endorsers(RUN.facts.anchor)[-1]
    name = RUN.facts.block_dir(RUN.facts.anchor) + f"endorsements/{m}.der"
    b.put(name, flip_byte(b.get(name), 10))
    return f"the anchor: {m}'s endorsement, one byte of r flipped", b


def case_flip_receipt(b):
    r = middle_record()
    b.put(r["dir"] + "receipt.txt", flip_line(b.text(r["dir"] + "receipt.txt"), "message:"))
    return f"record {r['seq']}'s receipt.txt: last character of the message changed", b


def case_flip_leaf(b):
    r = middle_record()
    b.put(r["dir"] + "leaf.txt", flip_line(b.text(r["dir"] + "leaf.txt"), "sig-sha256:"))
    return f"record {r['seq']}'s leaf.txt: a hex digit of sig-sha256 changed", b


def case_flip_receipt_proof(b):
    r = middle_record()
    name = r["dir"] + "receipt-proof.txt"
    b.put(name, flip_line(b.text(name), "top:", 5))
    return f"record {r['seq']}'s receipt-proof.txt: a hex digit of the 6th top line changed", b


def case_flip_loan_records_proof(b):
    b.put("state/loan-records-proof.txt", flip_line(b.text("state/loan-records-proof.txt"), "top:", 0))
    return "state/loan-records-proof.txt: a hex digit of its first top line changed", b


def case_flip_loan_json(b):
    text = b.text("state/loan.json")
    m = re.search(r'"cum_interest_fen":(\d+)', text) or re.search(r'"principal_fen":(\d+)', text)
    new = text[:m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1):]
    b.put("state/loan.json", new)
    return f"state/loan.json: {m.group(0)} increased by one fen", b


def case_flip_event(b):
    events = sorted(n for n in b.names("state/events/") if n.endswith(".json"))
    name = next((n for n in events if '"amount_fen"' in b.text(n)), events[0])
    text = b.text(name)
    m = re.search(r'"amount_fen":(\d+)', text) or re.search(r'"height":(\d+)', text)
    b.put(name, text[:m.start(1)] + str(int(m.group(1)) + 1) + text[m.end(1):])
    return f"{name}: {m.group(0)} increased by one", b


def case_flip_bundle_txt(b):
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", RUN.facts.n + 1))
    return f"bundle.txt claims {RUN.facts.n + 1} records", b


def case_bundle_txt_loan(b):
    other = fields(RUN.other.text("bundle.txt"))["loan"]
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "loan", other))
    return f"bundle.txt names the other loan {other}", b


def case_anchor_lowered(b):
    """The newest block dropped: the highest remaining block presented as the anchor."""
    b.delete_tree(RUN.facts.block_dir(RUN.facts.anchor))
    h = RUN.facts.blocks[-2]
    b.delete(RUN.facts.block_dir(h) + "ledger-proof.txt")
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "anchor-height", h))
    return f"the anchor block {RUN.facts.anchor} removed; block {h} claimed as the anchor", b


def case_round_changed(b):
    h = RUN.facts.record_blocks()[1]
    name = RUN.facts.block_dir(h) + "round.txt"
    b.put(name, f"{int(b.text(name)) + 1}\n")
    return f"block {h}'s round.txt: round + 1 (every endorsement was over the other round)", b


def case_resigned_record(b):
    r = next((x for x in RUN.facts.records
              if "amount-fen" in x["f"] and x["receipt"]["status"] == "accepted"), middle_record())
    key = "amount-fen" if "amount-fen" in r["f"] else list(r["f"])[-1]
    value = r["f"][key]
    new_value = str(int(value) * 10) if value.isdigit() else value + "x"
    resign_record(b, r, set_line(r["tx"], key, new_value))
    return (f"record {r['seq']} ({r['f']['type']}): {key} {value} -> {new_value}, re-signed with "
            f"{r['f']['sender']}'s real key, leaf.txt recomputed"), b


def case_timestamp_outside_window(b):
    r = middle_record()
    ts = int(r["f"]["timestamp-ms"]) - 2 * 86400 * 1000
    resign_record(b, r, set_line(r["tx"], "timestamp-ms", ts))
    window = RUN.facts.genesis["consensus"]["tx_time_window_ms"]
    return (f"record {r['seq']}: timestamp 2 days before its block (window {window} ms), re-signed "
            f"with the sender's real key, leaf.txt recomputed"), b


def drop_to(b, h, count):
    """Removes endorsements of block h (last names first) until count remain."""
    for m in RUN.facts.endorsers(h, b)[count:]:
        b.delete(RUN.facts.block_dir(h) + f"endorsements/{m}.der")


def case_endorsement_below_quorum(b):
    h = RUN.facts.record_blocks()[0]
    q = RUN.facts.quorum(RUN.facts.epoch_of(h))
    drop_to(b, h, q - 1)
    return (f"block {h} (epoch {RUN.facts.epoch_of(h)}): endorsements dropped to {q - 1}, "
            f"quorum {q}"), b


def case_anchor_below_quorum(b):
    h = RUN.facts.anchor
    q = RUN.facts.quorum(RUN.facts.epoch_of(h))
    drop_to(b, h, q - 1)
    return (f"the anchor (block {h}, epoch {RUN.facts.epoch_of(h)}): endorsements dropped to "
            f"{q - 1}, quorum {q}"), b


def case_duplicated_endorsement(b):
    h = RUN.facts.record_blocks()[0]
    q = RUN.facts.quorum(RUN.facts.epoch_of(h))
    drop_to(b, h, q)
    a, c = RUN.facts.endorsers(h, b)[:2]
    d = RUN.facts.block_dir(h) + "endorsements/"
    b.put(d + f"{c}.der", b.get(d + f"{a}.der"))
    return f"block {h}: {q} endorsements, {c}'s replaced by a copy of {a}'s", b


def case_duplicated_endorsement_new_name(b):
    h = RUN.facts.record_blocks()[1]
    e = RUN.facts.epoch_of(h)
    q = RUN.facts.quorum(e)
    drop_to(b, h, q - 1)
    present = RUN.facts.endorsers(h, b)
    absent = [m for m in RUN.facts.epochs[e]["members"] if m not in present][0]
    d = RUN.facts.block_dir(h) + "endorsements/"
    b.put(d + f"{absent}.der", b.get(d + f"{present[0]}.der"))
    return f"block {h}: {q - 1} real endorsements + {present[0]}'s again, filed as {absent}'s", b


def case_outsider_endorsement(b):
    h = RUN.facts.record_blocks()[2]
    m = RUN.facts.endorsers(h)[0]
    b.put(RUN.facts.block_dir(h) + f"endorsements/{m}.der", RUN.outsider.sign(RUN.facts.vote(h)))
    return f"block {h}: {m}'s endorsement replaced by a valid signature of the vote by an outside key", b


def case_outsider_member(b):
    """mallory: a certificate from the look-alike CA, filed as a member of epoch 0 (members.txt
    and a .pem, not the epoch document), endorsing a block in place of a real member."""
    h = RUN.facts.record_blocks()[2]
    e = RUN.facts.epoch_of(h)
    q = RUN.facts.quorum(e)
    like = RUN.facts.epochs[e]["doc"]["members"][0]["signing_certificate"]
    cert = RUN.outsider.issue(like, "/O=Outsider Bank/CN=mallory signing")
    cdir = f"consortium/epoch-{e:06d}/"
    b.put(cdir + "mallory.pem", cert)
    b.put(cdir + "members.txt",
          "".join(f"{x}\n" for x in sorted(RUN.facts.epochs[e]["members"] + ["mallory"])))
    drop_to(b, h, q - 1)
    b.put(RUN.facts.block_dir(h) + "endorsements/mallory.der", RUN.outsider.sign(RUN.facts.vote(h)))
    return (f"block {h}: {q - 1} real endorsements + mallory's (look-alike CA certificate added to "
            f"{cdir}, members.txt lists mallory)"), b


def case_lookalike_ca(b):
    b.put("trust/ca.pem", RUN.outsider.ca_text())
    return "trust/ca.pem replaced by a look-alike CA (same subject and dates), real fingerprint given", b


def case_lookalike_ca_own_fp(b):
    b.put("trust/ca.pem", RUN.outsider.ca_text())
    b.fp = RUN.outsider.fingerprint()
    return "trust/ca.pem replaced by the look-alike CA and ITS fingerprint given (genesis names the real CA)", b


def replace_member_cert(b, e, member, cert):
    """Edits epoch e's document and .pem so that member's signing certificate is cert, and
    re-signs that member's endorsements of e's blocks with the outsider key."""
    raw = RUN.facts.epochs[e]["raw"]
    doc = json.loads(raw)
    for m in doc["members"]:
        if m["id"] == member:
            m["signing_certificate"] = cert
    if e == 0:
        new = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        new = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    b.put(f"consortium/epoch-{e:06d}.json", new)
    b.put(f"consortium/epoch-{e:06d}/{member}.pem", cert)
    for h in RUN.facts.blocks:
        if RUN.facts.epoch_of(h) == e and member in RUN.facts.endorsers(h):
            b.put(RUN.facts.block_dir(h) + f"endorsements/{member}.der",
                  RUN.outsider.sign(RUN.facts.vote(h)))
    return new


def case_forged_membership_epoch1(b):
    e = len(RUN.facts.epochs) - 1
    member = RUN.facts.endorsers(RUN.facts.anchor)[0]
    like = next(m for m in RUN.facts.epochs[e]["doc"]["members"]
                if m["id"] == member)["signing_certificate"]
    replace_member_cert(b, e, member, RUN.outsider.issue(like))
    return (f"consortium/epoch-{e:06d}.json and {member}.pem: {member}'s certificate replaced by a "
            f"look-alike one (same subject); its endorsements of epoch-{e} blocks re-signed"), b


def case_forged_membership_genesis(b):
    member = RUN.facts.endorsers(RUN.facts.record_blocks()[0])[0]
    like = next(m for m in RUN.facts.genesis["members"] if m["id"] == member)["signing_certificate"]
    new = replace_member_cert(b, 0, member, RUN.outsider.issue(like))
    if len(RUN.facts.epochs) > 1:  # keep the document chain linked to the forged genesis
        doc1 = json.loads(RUN.facts.epochs[1]["raw"])
        doc1["previous_sha256"] = sha(new.encode())
        b.put("consortium/epoch-000001.json",
              json.dumps(doc1, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return (f"consortium/epoch-000000.json (genesis) and {member}.pem: {member}'s certificate "
            f"replaced by a look-alike one; epoch 1's previous_sha256 updated; endorsements re-signed"), b


def case_member_pem_swapped(b):
    e = 0
    member = RUN.facts.endorsers(RUN.facts.record_blocks()[0])[0]
    like = next(m for m in RUN.facts.genesis["members"] if m["id"] == member)["signing_certificate"]
    b.put(f"consortium/epoch-{e:06d}/{member}.pem", RUN.outsider.issue(like))
    for h in RUN.facts.blocks:
        if RUN.facts.epoch_of(h) == e and member in RUN.facts.endorsers(h):
            b.put(RUN.facts.block_dir(h) + f"endorsements/{member}.der",
                  RUN.outsider.sign(RUN.facts.vote(h)))
    return (f"consortium/epoch-000000/{member}.pem (not the document) replaced by a look-alike "
            f"certificate; {member}'s epoch-0 endorsements re-signed with its key"), b


def case_members_txt_edited(b):
    e = len(RUN.facts.epochs) - 1
    name = f"consortium/epoch-{e:06d}/members.txt"
    b.put(name, b.text(name) + "mallory\n")
    return f"{name}: an extra member 'mallory' listed", b


def case_endorsement_from_other_block(b):
    hs = RUN.facts.record_blocks()
    for h1 in hs:
        for h2 in hs:
            common = set(RUN.facts.endorsers(h1)) & set(RUN.facts.endorsers(h2))
            if h1 != h2 and common:
                m = sorted(common)[0]
                b.put(RUN.facts.block_dir(h1) + f"endorsements/{m}.der",
                      b.get(RUN.facts.block_dir(h2) + f"endorsements/{m}.der"))
                return f"block {h1}: {m}'s endorsement replaced by {m}'s endorsement of block {h2}", b
    raise AssertionError("no two blocks with a common endorser")


def case_tx_sig_from_other_record(b):
    r = middle_record()
    other = next(x for x in RUN.facts.records
                 if x["seq"] != r["seq"] and x["f"]["sender"] == r["f"]["sender"])
    sig = b.get(other["dir"] + "tx.sig")
    b.put(r["dir"] + "tx.sig", sig)
    b.put(r["dir"] + "leaf.txt", leaf_text(r["tx"].encode(), sig))
    return (f"record {r['seq']}: tx.sig replaced by the same sender's signature of record "
            f"{other['seq']} (leaf.txt recomputed)"), b


def case_blocks_reordered(b):
    h1, h2 = RUN.facts.record_blocks()[1:3]
    d1, d2 = RUN.facts.block_dir(h1), RUN.facts.block_dir(h2)
    b.rename_tree(d1, "blocks/swap/")
    b.rename_tree(d2, d1)
    b.rename_tree("blocks/swap/", d2)
    return f"the files of blocks/{h1:012d} and blocks/{h2:012d} swapped", b


def case_records_reordered(b):
    r1, r2 = rec(3), rec(4)
    b.rename_tree(r1["dir"], "records/swap/")
    b.rename_tree(r2["dir"], r1["dir"])
    b.rename_tree("records/swap/", r2["dir"])
    return "records/000003 and records/000004 swapped", b


def case_merkle_sibling(b):
    h = RUN.facts.record_blocks()[0]
    name = RUN.facts.block_dir(h) + "ledger-proof.txt"
    b.put(name, flip_line(b.text(name), "path:", 1))
    return f"block {h}'s ledger-proof.txt: a hex digit of the 2nd sibling changed", b


def case_merkle_index_ledger(b):
    h = RUN.facts.record_blocks()[0]
    name = RUN.facts.block_dir(h) + "ledger-proof.txt"
    b.put(name, set_line(b.text(name), "index", h ^ 1))
    return f"block {h}'s ledger-proof.txt: index {h} -> {h ^ 1}", b


def case_merkle_index_tx(b):
    r = middle_record()
    name = r["dir"] + "tx-proof.txt"
    f = fields(b.text(name))
    b.put(name, set_line(b.text(name), "index", int(f["index"]) + 1))
    return f"record {r['seq']}'s tx-proof.txt: index {f['index']} -> {int(f['index']) + 1} (size {f['size']})", b


def case_merkle_index_state(b):
    r = middle_record()
    name = r["dir"] + "receipt-proof.txt"
    text = b.text(name)
    f = fields(text)
    text = set_line(text, "index", int(f["index"]) + 1)
    text = set_line(text, "size", int(f["size"]) + 1)
    b.put(name, text)
    return (f"record {r['seq']}'s receipt-proof.txt: index {f['index']} -> {int(f['index']) + 1}, "
            f"size {f['size']} -> {int(f['size']) + 1}"), b


def case_merkle_other_ledger_proof(b):
    h1, h2 = RUN.facts.record_blocks()[:2]
    b.put(RUN.facts.block_dir(h1) + "ledger-proof.txt",
          b.get(RUN.facts.block_dir(h2) + "ledger-proof.txt"))
    return f"block {h1}'s ledger-proof.txt replaced by block {h2}'s", b


def case_merkle_other_receipt_proof(b):
    r1, r2 = rec(3), rec(4)
    b.put(r1["dir"] + "receipt-proof.txt", b.get(r2["dir"] + "receipt-proof.txt"))
    return "record 3's receipt-proof.txt replaced by record 4's", b


def case_merkle_other_state_proof(b):
    b.put("state/loan-proof.txt", b.get("state/loan-records-proof.txt"))
    return "state/loan-proof.txt replaced by state/loan-records-proof.txt", b


def case_merkle_inner_node_as_leaf(b):
    """RFC 6962's second-preimage attack: the level-1 node over headers h and h+1 presented as a
    'header' one level up. Its children (h's leaf hash, and the first sibling of h's ledger
    proof, which is h+1's leaf hash) become the leaf; the proof loses its first sibling and
    indexes the pair tree. Without the 0x00/0x01 prefixes this would give the same root."""
    h = next(x for x in RUN.facts.record_blocks() if x % 2 == 0 and x + 1 < RUN.facts.anchor)
    d = RUN.facts.block_dir(h)
    proof = fields(b.text(d + "ledger-proof.txt"))
    paths = [l[len("path: "):] for l in b.text(d + "ledger-proof.txt").splitlines() if l.startswith("path: ")]
    leaf_h = hashlib.sha256(b"\x00" + b.get(d + "header.txt")).digest()
    inner = leaf_h + bytes.fromhex(paths[0])
    b.put(d + "header.txt", inner)
    size = (int(proof["size"]) + 1) // 2
    b.put(d + "ledger-proof.txt", f"colend-inclusion-proof/v1\nindex: {h // 2}\nsize: {size}\n"
          + "".join(f"path: {p}\n" for p in paths[1:]))
    return (f"block {h}: header.txt = its level-1 node's children (64 bytes), ledger-proof index "
            f"{h // 2} size {size} with the first sibling removed"), b


def remove_record(b, seq):
    """Removes record seq as a careful forger would: renumbers the rest down, drops its events,
    its document and its block (unless another record or the anchor needs it), and decrements
    bundle.txt's records."""
    r = rec(seq)
    b.delete_tree(r["dir"])
    for later in range(seq + 1, RUN.facts.n + 1):
        b.rename_tree(rec(later)["dir"], rec(later - 1)["dir"])
    for n in b.names("state/events/"):
        if n.endswith(".json") and f'"tx":"{r["id"]}"' in b.text(n):
            b.delete(n)
            b.delete(n[:-5] + "-proof.txt")
    if r["f"]["type"] == "evidence.attach":
        b.delete("documents/" + r["f"]["document-sha256"])
    others = {x["height"] for x in RUN.facts.records if x["seq"] != seq}
    if r["height"] not in others and r["height"] != RUN.facts.anchor:
        b.delete_tree(RUN.facts.block_dir(r["height"]))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", RUN.facts.n - 1))
    return r


def case_record_removed_middle(b):
    r = remove_record(b, 3)
    return (f"record 3 ({r['f']['type']}) removed, records 4..{RUN.facts.n} renumbered down, "
            f"its events and block removed, bundle.txt records: {RUN.facts.n - 1}"), b


def case_last_record_removed(b):
    r = remove_record(b, RUN.facts.n)
    return (f"the last record ({r['f']['type']}) removed with its document and events, bundle.txt "
            f"records: {RUN.facts.n - 1}"), b


def case_last_record_removed_count_kept(b):
    r = remove_record(b, RUN.facts.n)
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", RUN.facts.n))
    return f"the last record ({r['f']['type']}) removed, bundle.txt still claims {RUN.facts.n}", b


def case_document_removed(b):
    b.delete(b.names("documents/")[0])
    return "one attached document's file removed", b


def case_event_dropped(b):
    events = sorted(n for n in b.names("state/events/") if n.endswith(".json"))
    name = next((n for n in events if "PENALTY" in b.text(n) or "OVERDUE" in b.text(n)), events[-1])
    kind = json.loads(b.get(name)).get("event")
    b.delete(name)
    b.delete(name[:-5] + "-proof.txt")
    return f"{name} ({kind}) and its proof removed", b


def case_event_dropped_count_edited(b):
    what, b = case_event_dropped(b)
    text = b.text("state/loan-records.txt")
    m = re.search(r"^events: (\d+)$", text, re.M)
    if m:
        b.put("state/loan-records.txt", set_line(text, "events", int(m.group(1)) - 1))
    return what + (", state/loan-records.txt events decremented" if m else
                   " (state/loan-records.txt has no events line in this build)"), b


def case_unreferenced_block(b):
    ours = set(RUN.facts.blocks)
    theirs = sorted({int(n.split("/")[1]) for n in RUN.other.names("blocks/")} - ours)
    h = theirs[0]
    for n in RUN.other.names(RUN.facts.block_dir(h)):
        b.put(n, RUN.other.get(n))
    return f"block {h} of the other loan (genuine, with its ledger proof) added: no record is in it", b


def case_record_appended(b):
    r = rec(RUN.facts.n)
    new = f"records/{RUN.facts.n + 1:06d}/"
    for n in b.names(r["dir"]):
        b.put(new + n[len(r["dir"]):], b.get(n))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", RUN.facts.n + 1))
    return (f"the last record duplicated as record {RUN.facts.n + 1}, bundle.txt records: "
            f"{RUN.facts.n + 1}"), b


def other_record_into(b, other_seq, target_dir):
    """Copies the other loan's record other_seq (and its block if missing) into b at target_dir."""
    o = fields(RUN.other.text("bundle.txt"))
    src = f"records/{other_seq:06d}/"
    for n in RUN.other.names(src):
        b.put(target_dir + n[len(src):], RUN.other.get(n))
    h = int(fields(RUN.other.text(src + "receipt.txt"))["height"])
    bd = RUN.facts.block_dir(h)
    if not b.has(bd + "header.txt"):
        for n in RUN.other.names(bd):
            b.put(n, RUN.other.get(n))
    return o, h


def case_foreign_record_replaced(b):
    """A record of the other loan put in place of one of this loan's, at a height that keeps the
    order; both loans' bundles share the anchor, so all its proofs are genuine."""
    o = fields(RUN.other.text("bundle.txt"))
    others = [(s, int(fields(RUN.other.text(f"records/{s:06d}/receipt.txt"))["height"]))
              for s in range(1, int(o["records"]) + 1)]
    for r in RUN.facts.records[1:]:
        lo = RUN.facts.records[r["seq"] - 2]["height"]
        hi = RUN.facts.records[r["seq"]]["height"] if r["seq"] < RUN.facts.n else RUN.facts.anchor
        fit = [s for s, h in others if lo <= h <= hi]
        if fit:
            break
    else:
        r, fit = rec(RUN.facts.n), [others[-1][0]]
    b.delete_tree(r["dir"])
    _, h = other_record_into(b, fit[0], r["dir"])
    for n in b.names("state/events/"):
        if n.endswith(".json") and f'"tx":"{r["id"]}"' in b.text(n):
            b.delete(n)
            b.delete(n[:-5] + "-proof.txt")
    same_anchor = o["anchor-height"] == str(RUN.facts.anchor)
    return (f"record {r['seq']} ({r['f']['type']}) replaced by the other loan {o['loan']}'s record "
            f"{fit[0]} (block {h}; {'same' if same_anchor else 'DIFFERENT'} anchor), its events removed"), b


def case_foreign_record_inserted(b):
    o = fields(RUN.other.text("bundle.txt"))
    last = int(o["records"])
    for seq in range(RUN.facts.n, 0, -1):
        b.rename_tree(rec(seq)["dir"], f"records/{seq + 1:06d}/")
    # first in height order is fine: the other loan's records came after this loan's first one
    _, h = other_record_into(b, last, "records/000000/")
    pos = sum(1 for r in RUN.facts.records if r["height"] <= h) + 1
    for seq in range(2, pos + 1):
        b.rename_tree(f"records/{seq:06d}/", f"records/{seq - 1:06d}/")
    b.rename_tree("records/000000/", f"records/{pos:06d}/")
    for n in RUN.other.names("documents/"):
        b.put(n, RUN.other.get(n))
    b.put("bundle.txt", set_line(b.text("bundle.txt"), "records", RUN.facts.n + 1))
    return (f"the other loan {o['loan']}'s last record (block {h}) inserted as record {pos}, with "
            f"its documents; bundle.txt records: {RUN.facts.n + 1}"), b
