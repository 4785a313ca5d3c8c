"""An independent writer of weaver-kernel trace stores, for import tests.

The format is the reference's hash chain and its stores
(docs/reference-compatibility.md#hash-chain).

Written with CPython's own json, hmac and sqlite3 modules, without any of tracegate's code:
what tracegate imports from these files has to match what the reference itself would write.

Usage (the traces come on stdin as a JSON list of 16-key export objects,
docs/reference-compatibility.md#the-16-keys):

    python3 reference-writer.py jsonl  OUT SECRET                  < traces.json
    python3 reference-writer.py sqlite OUT SECRET [PRUNE_BEFORE]   < traces.json
    python3 reference-writer.py canonical                          < traces.json

`sqlite` with PRUNE_BEFORE (an ISO timestamp) then prunes like SQLiteTraceStore.prune: it
deletes the rows whose invoked_at string sorts before the cutoff's UTC isoformat() and keeps
the newest deleted row's record_hash and seq + 1 in meta. `canonical` prints, one per line,
the canonical JSON the chain hashes for each trace (what a byte-exact import must store).
"""
import datetime
import hashlib
import hmac
import json
import sqlite3
import sys

GENESIS_HASH = "0" * 64


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def record_hash(secret, seq, prev_hash, trace):
    message = canonical({"seq": seq, "prev_hash": prev_hash, "trace": trace})
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def chain(traces, secret, first_seq=0, prev_hash=GENESIS_HASH):
    for offset, trace in enumerate(traces):
        seq = first_seq + offset
        digest = record_hash(secret, seq, prev_hash, trace)
        yield seq, prev_hash, digest, trace
        prev_hash = digest


def write_jsonl(path, traces, secret):
    # JsonlTraceStore: one json.dumps (default separators) line per record, opened for append.
    for seq, prev_hash, digest, trace in chain(traces, secret):
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"seq": seq, "prev_hash": prev_hash, "record_hash": digest, "trace": trace}) + "\n")


def write_sqlite(path, traces, secret, prune_before=None):
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE IF NOT EXISTS traces (seq INTEGER PRIMARY KEY, action_id TEXT UNIQUE NOT NULL, "
        "prev_hash TEXT NOT NULL, record_hash TEXT NOT NULL, invoked_at TEXT NOT NULL, payload TEXT NOT NULL)"
    )
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    for seq, prev_hash, digest, trace in chain(traces, secret):
        db.execute(
            "INSERT INTO traces (seq, action_id, prev_hash, record_hash, invoked_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
            (seq, trace["action_id"], prev_hash, digest, trace["invoked_at"], json.dumps(trace)),
        )
        db.commit()
    if prune_before is not None:
        before = datetime.datetime.fromisoformat(prune_before)
        if before.tzinfo is None:
            before = before.replace(tzinfo=datetime.timezone.utc)
        cutoff = before.astimezone(datetime.timezone.utc).isoformat()
        last = db.execute(
            "SELECT seq, record_hash FROM traces WHERE invoked_at < ? ORDER BY seq DESC LIMIT 1", (cutoff,)
        ).fetchone()
        if last is not None:
            db.execute("DELETE FROM traces WHERE invoked_at < ?", (cutoff,))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('checkpoint_hash', ?)", (last[1],))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('checkpoint_next_seq', ?)", (str(last[0] + 1),))
            db.commit()
    db.close()


def main(argv):
    traces = json.loads(sys.stdin.read())
    command = argv[1]
    if command == "jsonl":
        write_jsonl(argv[2], traces, argv[3])
    elif command == "sqlite":
        write_sqlite(argv[2], traces, argv[3], argv[4] if len(argv) > 4 else None)
    elif command == "canonical":
        for trace in traces:
            sys.stdout.write(canonical(trace) + "\n")
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv)
