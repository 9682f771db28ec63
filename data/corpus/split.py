#!/usr/bin/env python3
"""Split all.jsonl once into train.jsonl (75 %) and test.jsonl (25 %).

The split is stratified by (label, lang): every (label, lang) group is
shuffled with its own seeded RNG and the first round(25 % of the group) goes
to test, the rest to train. Output lines keep the order of all.jsonl.

SEED = 1534 (fixed; do not change it). The split was made once and committed.
Nobody tunes on test.jsonl. The script refuses to overwrite existing split
files unless --force is given, so the committed split is not redone by
accident.

Usage: python3 split.py [--force]
"""
import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 1534
TEST_FRACTION = 0.25
HERE = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--force", action="store_true", help="overwrite existing train/test files")
    args = ap.parse_args()

    src = HERE / "all.jsonl"
    train_path, test_path = HERE / "train.jsonl", HERE / "test.jsonl"
    if (train_path.exists() or test_path.exists()) and not args.force:
        print("train.jsonl/test.jsonl already exist; the split is done once. Use --force to redo it.",
              file=sys.stderr)
        return 1

    lines = src.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    texts = [r["text"] for r in rows]
    if len(set(texts)) != len(texts):
        print("duplicate texts in all.jsonl", file=sys.stderr)
        return 1

    # Group row indices by (label, lang), in file order.
    groups = defaultdict(list)
    for i, r in enumerate(rows):
        assert r["label"] in ("urgent", "info", "complaint"), r
        assert r["lang"] in ("fr", "en"), r
        groups[(r["label"], r["lang"])].append(i)

    test_idx = set()
    for key in sorted(groups):
        idx = list(groups[key])
        # One RNG per group, seeded from SEED and the group key, so adding a
        # group never changes how another group is split.
        rng = random.Random(f"{SEED}:{key[0]}:{key[1]}")
        rng.shuffle(idx)
        n_test = round(len(idx) * TEST_FRACTION)
        test_idx.update(idx[:n_test])

    with train_path.open("w", encoding="utf-8") as tr, test_path.open("w", encoding="utf-8") as te:
        for i, line in enumerate(lines):
            (te if i in test_idx else tr).write(line + "\n")

    n_test = len(test_idx)
    print(f"seed={SEED} total={len(rows)} train={len(rows) - n_test} test={n_test}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
