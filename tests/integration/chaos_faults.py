"""The faults chaos_test.py injects, one function per kind, with the waits and progress checks
they share; FAULT_KINDS names every kind (the order a seed's shuffled plan starts from) and
CLASSIC_FAULTS the ones drawn by default. Each fault leaves a majority able to commit, heals what
it did and appends itself to chaos_cluster.FAULTS.

The run state is read and set as cluster.NAME (chaos_cluster's globals) at call time.
Used by chaos_test.py.
"""
import os
import random
import shutil
import subprocess
import time

import chaos_cluster as cluster
from chaos_cluster import (N, RpcError, Unreachable, block, cont_node, count_in_log, detect_hooks,
                           heal_partitions, height_or_none, kill_node, log_text, note, proposer,
                           start_node, status, stop_node, up_nodes, wait_hook_applied,
                           write_partition)
from netlib import colend, expect, home


# ---- faults ---------------------------------------------------------------------------------

def max_height(nodes, timeout=1.0):
    hs = [h for h in (height_or_none(k, timeout) for k in nodes) if h is not None]
    return max(hs) if hs else None


def wait_height(nodes, target, timeout):
    """Polls until one of `nodes` is at `target` or above; returns the time it was seen, or None."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for k in nodes:
            h = height_or_none(k, 0.5)
            if h is not None and h >= target:
                return time.time()
        time.sleep(0.05)
    return None


def wait_for_commit(timeout=10.0):
    """Waits for a fresh commit on a running, non-syncing node; returns its new height H (so the
    next height H+1 most likely has not been proposed yet: the proposer waits block_interval)."""
    candidates = up_nodes()
    ref, h0 = None, None
    for k in random.sample(candidates, len(candidates)):
        try:
            s = status(k, 1.0)
        except (RpcError, Unreachable):
            continue
        if not s["syncing"]:
            ref, h0 = k, s["height"]
            break
    if ref is None:
        return None
    deadline = time.time() + timeout
    while time.time() < deadline:
        h = height_or_none(ref, 0.5)
        if h is not None and h > h0:
            # ref may have been the last to hear of it: then the next height is under way already.
            if (max_height([k for k in candidates if k != ref], 0.5) or 0) <= h:
                return h
            h0 = h
        time.sleep(0.02)
    return h0


def require_progress(nodes, above, at_least_s, at_most_s, what):
    """Lets the fault last at least `at_least_s`, and until `nodes` commit beyond height `above`
    (at most `at_most_s`): a majority up must keep committing."""
    t_start = time.time()
    t = wait_height(nodes, above + 1, at_most_s)
    expect(t is not None, f"{what}: nodes {fmt(nodes)} committed beyond height {above}"
           + ("" if t is None else f" ({t - t_start:.1f} s)"))
    rest = at_least_s - (time.time() - t_start)
    if rest > 0:
        time.sleep(rest)


def fmt(nodes):
    return ",".join(f"node{k}" for k in sorted(nodes))


def fault_kill(rng):
    victims = rng.sample(up_nodes(), rng.choice([1, 2]))
    down_for = rng.uniform(2, 6)
    cluster.FAULTS.append(f"kill {fmt(victims)}")
    note(f"fault {len(cluster.FAULTS)}: SIGKILL {fmt(victims)} for {down_for:.1f} s")
    for k in victims:
        kill_node(k)
    rest = up_nodes()
    require_progress(rest, max_height(rest), down_for, 30, f"with {fmt(victims)} killed")
    for k in victims:
        start_node(k)


def next_proposer_after_commit():
    h = wait_for_commit()
    if h is None:
        return None, None
    return h, proposer(h + 1, 0)


def measure_next_block(victim, h, t0, what):
    """Time from t0 (the victim was taken out) until height h+1 commits elsewhere."""
    others = [k for k in up_nodes() if k != victim]
    t = wait_height(others, h + 1, 30)
    expect(t is not None, f"{what}: height {h + 1} committed without node{victim}")
    latency = t - t0
    b = None
    for k in others:
        try:
            b = block(k, h + 1)
            break
        except (RpcError, Unreachable):
            continue
    rnd = b["certificate_round"] if b else "?"
    prop = b["proposer"] if b else "?"
    escaped = b is not None and b["proposer"] == cluster.MEMBER[victim]
    print(f"{what}: next block committed after {latency:.2f} s (height {h + 1}, round {rnd}, "
          f"proposed by {prop}"
          + (f"; node{victim}'s proposal had left before the fault)" if escaped else ")"),
          flush=True)
    if not escaped:
        cluster.LATENCIES.append((what, latency, rnd, escaped))
    return latency


def fault_proposer_kill(rng):
    h, victim = next_proposer_after_commit()
    if h is None or cluster.STATE[victim] != "up":
        return fault_kill(rng)
    cluster.FAULTS.append(f"proposer-kill node{victim}")
    note(f"fault {len(cluster.FAULTS)}: SIGKILL node{victim} ({cluster.MEMBER[victim]}), "
         f"proposer of height {h + 1} round 0, just after block {h}")
    t0 = kill_node(victim)
    measure_next_block(victim, h, t0, "proposer kill")
    time.sleep(rng.uniform(1, 3))
    start_node(victim)


def fault_pause(rng):
    h, victim = next_proposer_after_commit()
    if h is None or cluster.STATE[victim] != "up":
        victim, h = rng.choice(up_nodes()), max_height(up_nodes())
    pause_for = rng.uniform(4, 6)
    cluster.FAULTS.append(f"pause node{victim}")
    note(f"fault {len(cluster.FAULTS)}: SIGSTOP node{victim} ({cluster.MEMBER[victim]}), "
         f"proposer of height {h + 1} round 0, for {pause_for:.1f} s")
    t0 = stop_node(victim)
    try:
        measure_next_block(victim, h, t0, "proposer pause")
        rest = pause_for - (time.time() - t0)
        if rest > 0:
            time.sleep(rest)
    finally:
        cont_node(victim)


def fault_partition(rng):
    minority = rng.sample(range(1, N + 1), 2)
    majority = [k for k in range(1, N + 1) if k not in minority]
    hold = rng.uniform(5, 8)
    cluster.FAULTS.append(f"partition {fmt(minority)} | {fmt(majority)}")
    note(f"fault {len(cluster.FAULTS)}: partition {fmt(minority)} | {fmt(majority)} "
         f"for {hold:.1f} s")
    before = {k: count_in_log(k, "test hook: dropping frames") for k in range(1, N + 1)}
    for k in minority:
        write_partition(k, [cluster.MEMBER[j] for j in majority])
    for k in majority:
        write_partition(k, [cluster.MEMBER[j] for j in minority])
    try:
        if cluster.HOOKS is None:
            detect_hooks(range(1, N + 1))
        if not cluster.HOOKS:
            print("skip partition checks: node built without test hooks", flush=True)
            time.sleep(min(hold, 2))
            return
        expect(wait_hook_applied(range(1, N + 1), before),
               "every node logged that it applies its partition file")
        time.sleep(1.0)  # frames already in flight settle
        h_min = max_height(minority)
        h_maj = max_height(majority)
        require_progress(majority, h_maj, hold, 30, "partition: the 3 side")
        # A lagging node of the 2 side may still sync from the other one, but the 2 side as a
        # whole can commit nothing new.
        h_min_after = max_height(minority)
        expect(h_min_after == h_min,
               f"partition: the 2 side did not advance (at {h_min}, then {h_min_after}; the 3 "
               f"side went from {h_maj} to {max_height(majority)})")
    finally:
        heal_partitions()


def fault_oneway(rng):
    src = rng.choice(range(1, N + 1))
    dst = rng.sample([k for k in range(1, N + 1) if k != src], rng.choice([1, 2]))
    hold = rng.uniform(3, 6)
    cluster.FAULTS.append(f"one-way node{src} -> {fmt(dst)}")
    note(f"fault {len(cluster.FAULTS)}: node{src} loses its frames to {fmt(dst)} for {hold:.1f} s")
    before = {k: count_in_log(k, "test hook: dropping frames") for k in range(1, N + 1)}
    write_partition(src, [f"out {cluster.MEMBER[j]}" for j in dst])
    try:
        if cluster.HOOKS is None:
            detect_hooks([src])
        if not cluster.HOOKS:
            print("skip partition checks: node built without test hooks", flush=True)
            time.sleep(min(hold, 2))
            return
        expect(wait_hook_applied([src], before), f"node{src} logged that it applies the file")
        nodes = up_nodes()
        require_progress(nodes, max_height(nodes), hold, 30, "one-way link loss")
    finally:
        heal_partitions()


# ---- unknown signing history (F11), lying members, corrupt stores -----------------------------

def data_dir(k):
    return os.path.join(home(k), "data")


def recovery_lines(k):
    return count_in_log(k, "signing history unknown")


def expect_recovery(k, before, how):
    """node k says its history is unknown, then recovers and signs again."""
    expect(recovery_lines(k) > before,
           f"{how}: node{k} says its signing history is unknown at start")
    deadline = time.time() + 40
    signing = None
    while time.time() < deadline:
        try:
            signing = status(k, 2.0)["consensus"]["signing"]
        except (RpcError, Unreachable):
            signing = None
        if signing == "yes" or (isinstance(signing, str) and signing.startswith("from height")):
            break
        time.sleep(0.5)
    expect(signing is not None and not str(signing).startswith("recovering"),
           f"{how}: node{k} knows its signing floor again within 40 s (signing: {signing})")
    s = status(k, 2.0)
    floor = s["consensus"]["sign_floor"]
    expect(floor <= s["height"] + 4,
           f"{how}: node{k}'s signing floor {floor} is near its tip {s['height']}, not a forged "
           "height")
    # It takes part again once the others have committed up to its floor. Until then it counts
    # as down: the next fault waits, so that no more than N - q members sign nothing at once (more
    # would halt the chain by design, docs/consensus.md §10).
    deadline = time.time() + 30
    while time.time() < deadline and max_height(up_nodes()) < floor:
        time.sleep(0.2)
    expect(max_height(up_nodes()) >= floor,
           f"{how}: the chain reaches node{k}'s floor {floor}, so it signs again")


def wipe(k, how, rng):
    before = recovery_lines(k)
    kill_node(k)
    d = data_dir(k)
    if how == "wipe-remove":
        shutil.rmtree(d)
    elif how == "wipe-empty":
        for name in os.listdir(d):
            path = os.path.join(d, name)
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
    elif how == "wipe-restore":
        backup = os.path.join(os.path.dirname(cluster.DIR), f"backup-node{k}")
        shutil.rmtree(backup, ignore_errors=True)
        shutil.copytree(d, backup)  # a consistent copy: the node is stopped
        start_node(k)
        # It signs on for a while, then its data is replaced by the older copy.
        top = max_height(up_nodes())
        expect(wait_height([k], top + 4, 30) is not None,
               f"{how}: node{k} commits 4 more blocks after the copy was taken")
        time.sleep(rng.uniform(0.5, 1.5))
        before = recovery_lines(k)
        kill_node(k)
        shutil.rmtree(d)
        shutil.copytree(backup, d)
    elif how == "wipe-half-init":
        shutil.rmtree(d)
        # Start it and kill it as soon as the fresh store exists, before anything else can happen.
        p = subprocess.Popen([os.path.join(cluster.BIN, "colend-node"), "--home", home(k)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(d, "CURRENT")) and time.time() < deadline:
            time.sleep(0.005)
        p.kill()
        p.wait()
        expect(os.path.exists(os.path.join(d, "CURRENT")),
               f"{how}: node{k} created a fresh store before it was killed")
        before = recovery_lines(k)
    start_node(k)
    return before


def fault_wipe(kind):
    def run(rng):
        victim = rng.choice(up_nodes())
        cluster.FAULTS.append(f"{kind} node{victim}")
        note(f"fault {len(cluster.FAULTS)}: {kind} on node{victim} ({cluster.MEMBER[victim]}), "
             "key kept")
        before = wipe(victim, kind, rng)
        expect_recovery(victim, before, kind)
    return run


def fault_liar(rng):
    liar, victim = rng.sample(up_nodes(), 2)
    cluster.FAULTS.append(f"liar node{liar} + wipe-remove node{victim}")
    note(f"fault {len(cluster.FAULTS)}: node{liar} announces height 10^15; node{victim} is wiped "
         "meanwhile")
    lie_path = os.path.join(home(liar), "test-lie-status")
    with open(lie_path, "w") as f:
        f.write("1000000000000000")
    try:
        if cluster.HOOKS:
            rest = [k for k in up_nodes() if k != liar]
            require_progress(rest, max_height(rest), 3, 30, f"with node{liar} lying")
        before = wipe(victim, "wipe-remove", rng)
        expect_recovery(victim, before, f"wipe with node{liar} lying")
        if cluster.HOOKS:
            time.sleep(3)
            believed = {k: status(k)["best_peer_height"] for k in up_nodes() if k != liar}
            expect(all(h < 10**15 for h in believed.values()),
                   f"no node believes node{liar}'s height after it served nothing: {believed}")
    finally:
        os.remove(lie_path)


def fault_corrupt(rng):
    victim = rng.choice(up_nodes())
    cluster.FAULTS.append(f"corrupt node{victim}")
    note(f"fault {len(cluster.FAULTS)}: bytes flipped in node{victim}'s store files while it is "
         "stopped")
    kill_node(victim)
    d = data_dir(victim)
    flipped = 0
    for name in sorted(os.listdir(d)):
        if not (name.endswith(".ldb") or name.endswith(".log")):
            continue
        path = os.path.join(d, name)
        size = os.path.getsize(path)
        if size < 256:
            continue
        with open(path, "r+b") as f:
            for at in range(128, size - 64, max(97, size // 64)):
                f.seek(at)
                b = f.read(1)
                f.seek(at)
                f.write(bytes([b[0] ^ 0x5A]))
                flipped += 1
    cluster.EXPECTED_FATAL[victim].append("corrupt-store")
    p = colend("localnet", "up", "--dir", cluster.DIR, "--node", str(victim), "--timeout", "10",
               check=False, timeout=60)
    if p.returncode == 0:
        with cluster.LOCK:
            cluster.STATE[victim] = "up"
        # Started (the damage missed what start-up reads): what it serves is right or refused.
        reference = [k for k in up_nodes() if k != victim][0]
        top = max_height([reference])
        wrong = []
        for h in range(1, min(top, 60) + 1):
            try:
                mine = block(victim, h, 3.0)
            except (RpcError, Unreachable):
                continue  # refused (or the node stopped): never served
            if mine["hash"] != block(reference, h)["hash"]:
                wrong.append(h)
        expect(not wrong, f"corrupt: node{victim} never serves a block other than the chain's "
               f"({flipped} bytes flipped; wrong at {wrong[:5]})")
        kill_node(victim)
    else:
        expect("corrupt" in log_text(victim).lower(),
               f"corrupt: node{victim} refuses to start and names the damage "
               f"({flipped} bytes flipped)")
        with cluster.LOCK:
            cluster.STATE[victim] = "down"
    # The operator's remedy (docs/operations.md): move data/ aside, start; it recovers.
    shutil.move(d, d + f".damaged-{len(cluster.FAULTS)}")
    before = recovery_lines(victim)
    start_node(victim)
    expect_recovery(victim, before, "corrupt store moved aside")


CLASSIC_FAULTS = ("kill", "proposer-kill", "pause", "partition", "one-way")
FAULT_KINDS = {"kill": fault_kill, "proposer-kill": fault_proposer_kill, "pause": fault_pause,
               "partition": fault_partition, "one-way": fault_oneway,
               "wipe-remove": fault_wipe("wipe-remove"), "wipe-empty": fault_wipe("wipe-empty"),
               "wipe-restore": fault_wipe("wipe-restore"),
               "wipe-half-init": fault_wipe("wipe-half-init"), "liar": fault_liar,
               "corrupt": fault_corrupt}
