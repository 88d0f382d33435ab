#!/usr/bin/python3
"""What a node's LevelDB write-ahead log holds, by kind of record, per committed height.

    scripts/wal-bytes.py DATA_DIR

DATA_DIR is a node's store (`<localnet>/nodeN/data`). Reads every `*.log` there (the write-ahead
log of the memtable not yet flushed: the most recent few MiB of writes) and prints, for each kind
of key (node/store.h, node/state_storage.h), its bytes (key + value), its share of the log, its
number of writes, and its bytes per committed height and per committed transaction (the blocks
and the transaction index entries written in the same log). These are the bytes that fill
LevelDB's memtable and that its merges move later.

Only the record framing of LevelDB's log format (32 KiB blocks, 7-byte record headers) and of a
write batch (12-byte header, then tagged, varint-prefixed keys and values) is read; record
checksums are not checked, so run it on a copy or a stopped node, not as a store check.
"""
import collections
import glob
import os
import struct
import sys

BLOCK = 32768
KINDS = [  # (key prefix, name), the first that matches
    (b"m/replica", "vote state (m/replica)"),
    (b"v/", "state values (v/)"),
    (b"k/", "leaf records (k/)"),
    (b"i/", "id records (i/)"),
    (b"r/", "bucket roots (r/)"),
    (b"b/", "blocks (b/)"),
    (b"h/", "headers (h/)"),
    (b"t/", "transaction index (t/)"),
    (b"n/", "ledger subtrees (n/)"),
    (b"m/", "other metadata (m/)"),
]


class Damaged(Exception):
    pass


def varint(b, i):
    result = shift = 0
    while True:
        if i >= len(b) or shift > 63:
            raise Damaged("a varint runs past its write batch")
        c = b[i]
        i += 1
        result |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return result, i


def batches(path):
    data = open(path, "rb").read()
    pos = 0
    fragments = None
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # a block's trailer
            pos += left
            continue
        _crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:  # zero padding (a preallocated or short tail)
            pos += left
            continue
        if pos + 7 + length > len(data):
            break  # a record cut by a crash or by the copy: the writer would drop it too
        payload = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield payload
        elif kind == 2:
            fragments = payload
        elif kind == 3 and fragments is not None:
            fragments += payload
        elif kind == 4 and fragments is not None:
            yield fragments + payload
            fragments = None
        else:
            raise Damaged("%s: record type %d at byte %d" % (path, kind, pos - 7 - length))


def main():
    if len(sys.argv) != 2 or sys.argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    logs = sorted(glob.glob(os.path.join(sys.argv[1], "*.log")))
    if not os.path.isdir(sys.argv[1]) or not logs:
        print("wal-bytes.py: %s is not a node's store (no *.log files in it)" % sys.argv[1],
              file=sys.stderr)
        return 2
    size = collections.Counter()
    writes = collections.Counter()
    total = heights = txs = 0
    try:
        for path in logs:
            for batch in batches(path):
                if len(batch) < 12:
                    raise Damaged("%s: a write batch of %d bytes" % (path, len(batch)))
                total += len(batch)
                i = 12
                while i < len(batch):
                    tag = batch[i]
                    if tag not in (0, 1):
                        raise Damaged("%s: write batch entry tag %d" % (path, tag))
                    length, i = varint(batch, i + 1)
                    key = batch[i:i + length]
                    i += length
                    value_length = 0
                    if tag == 1:
                        value_length, i = varint(batch, i)
                        i += value_length
                    name = next((n for p, n in KINDS if key.startswith(p)), "other")
                    size[name] += len(key) + value_length
                    writes[name] += 1
                    if tag == 1 and key.startswith(b"b/"):
                        heights += 1
                    if tag == 1 and key.startswith(b"t/"):
                        txs += 1
    except Damaged as e:
        print("wal-bytes.py: cannot read the log: %s" % e, file=sys.stderr)
        return 1
    if total == 0:
        print("wal-bytes.py: no write batch in %s (empty, or not a LevelDB log)" % ", ".join(logs),
              file=sys.stderr)
        return 1
    per, per_tx = max(heights, 1), max(txs, 1)
    print("%d heights, %d transactions, %d bytes of write batches: %.0f a height, %.0f a transaction"
          % (heights, txs, total, total / per, total / per_tx))
    print("%-26s %12s %7s %8s %10s %8s" % ("kind", "bytes", "share", "writes", "B/height", "B/tx"))
    for name, b in size.most_common():
        print("%-26s %12d %6.1f%% %8d %10.0f %8.0f" % (name, b, 100.0 * b / max(total, 1), writes[name],
                                                      b / per, b / per_tx))
    return 0


if __name__ == "__main__":
    sys.exit(main())
