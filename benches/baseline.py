#!/usr/bin/env python3
"""Side-by-side baseline for the guichet triage corpus.

Trains TF-IDF (word 1-2 grams + char_wb 2-5 grams, joined with a
FeatureUnion, sublinear_tf) + LinearSVC on train.jsonl and scores it on
test.jsonl. Prints per-class precision/recall/F1, macro-F1 overall and per
language, urgent recall per language, and prediction throughput.

Then runs `guichet eval` on the same test file and prints both side by side
(macro-F1 overall and per language, urgent recall, messages per second).

This is a benchmark script, not a CI step. It needs scikit-learn and a release
build of guichet:
    pip install scikit-learn
    cargo build --release
Usage:
    python3 benches/baseline.py [--train PATH ...] [--test PATH] [--guichet PATH]
    python3 benches/baseline.py --cv     # 5-fold cross-validation of the training files

--cv draws the folds as guichet's `sweep::pooled` does (every 5th message of each
(label, language) group, in file order) and scores the out-of-fold answers, overall and on
the last five training files (fresh2 to fresh6) apart.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import classification_report, f1_score, recall_score
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

# Default corpus location, resolved relative to this script (benches/ -> data/corpus/).
CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"
LABELS = ["urgent", "info", "complaint"]
# guichet trains on the train split and, when present, the training-only supplements:
# the baseline gets exactly the same training data.
DEFAULT_TRAIN = [p for p in (CORPUS / "train.jsonl", CORPUS / "supplement.jsonl",
                               CORPUS / "supplement2.jsonl", CORPUS / "realistic_fr.jsonl",
                               CORPUS / "realistic_en.jsonl", CORPUS / "hard_cases.jsonl",
                               CORPUS / "realistic2.jsonl", CORPUS / "realistic3.jsonl",
                               CORPUS / "realistic4.jsonl", CORPUS / "realistic5.jsonl",
                               CORPUS / "fresh2.jsonl",
                               CORPUS / "fresh3.jsonl", CORPUS / "fresh4.jsonl",
                               CORPUS / "fresh5.jsonl", CORPUS / "fresh6.jsonl",
                               CORPUS / "fresh7.jsonl", CORPUS / "fresh8.jsonl",
                               CORPUS / "fresh9.jsonl", CORPUS / "fresh10.jsonl",
                               CORPUS / "fresh11.jsonl")
                 if p.exists()]
GUICHET = Path(__file__).resolve().parent.parent / "target" / "release" / "guichet"


def load(path: Path):
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def build_model() -> Pipeline:
    features = FeatureUnion([
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                 lowercase=True, strip_accents=None)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                 lowercase=True)),
    ])
    return Pipeline([("features", features), ("svm", LinearSVC(C=1.0, random_state=0))])


def main() -> int:
    ap = argparse.ArgumentParser(description="TF-IDF + LinearSVC baseline for guichet")
    ap.add_argument("--train", type=Path, nargs="+", default=DEFAULT_TRAIN)
    ap.add_argument("--test", type=Path, default=CORPUS / "test.jsonl")
    ap.add_argument("--guichet", type=Path, default=GUICHET,
                    help="the guichet binary to compare with (built with cargo build --release)")
    ap.add_argument("--cv", action="store_true",
                    help="5-fold cross-validation of the training files instead of a test file")
    ap.add_argument("--min-seconds", type=float, default=1.0,
                    help="minimum wall time for the throughput measurement")
    args = ap.parse_args()

    if args.cv:
        return cross_validate(args.train)
    train = [row for path in args.train for row in load(path)]
    test = load(args.test)
    x_train = [r["text"] for r in train]
    y_train = [r["label"] for r in train]
    x_test = [r["text"] for r in test]
    y_test = [r["label"] for r in test]
    langs = [r["lang"] for r in test]

    print(f"train: {len(train)} messages ({', '.join(str(p) for p in args.train)})")
    print(f"test:  {len(test)} messages ({args.test})")

    model = build_model()
    t0 = time.perf_counter()
    model.fit(x_train, y_train)
    print(f"fit time: {time.perf_counter() - t0:.2f} s\n")

    pred = list(model.predict(x_test))

    print("Per-class scores (test, all languages):")
    print(classification_report(y_test, pred, labels=LABELS, digits=3, zero_division=0))

    macro = f1_score(y_test, pred, labels=LABELS, average="macro", zero_division=0)
    print(f"macro-F1 overall: {macro:.3f}")
    n_urgent = sum(1 for p in pred if p == "urgent")
    false_urgent = sum(1 for y, p in zip(y_test, pred) if p == "urgent" and y != "urgent")
    print(f"predicted urgent: {n_urgent} of {len(pred)}; "
          f"not labelled urgent: {false_urgent} ({false_urgent / len(pred):.1%})")
    for lang in ("fr", "en"):
        idx = [i for i, l in enumerate(langs) if l == lang]
        yt = [y_test[i] for i in idx]
        yp = [pred[i] for i in idx]
        m = f1_score(yt, yp, labels=LABELS, average="macro", zero_division=0)
        ur = recall_score(yt, yp, labels=["urgent"], average=None, zero_division=0)[0]
        n_urg = sum(1 for y in yt if y == "urgent")
        missed = sum(1 for a, b in zip(yt, yp) if a == "urgent" and b != "urgent")
        print(f"macro-F1 {lang}: {m:.3f}  (n={len(idx)})   "
              f"urgent recall {lang}: {ur:.3f}  ({n_urg - missed}/{n_urg}, missed {missed})")

    # Missed urgents are the costliest error: list them.
    missed = [(x, p, l) for x, y, p, l in zip(x_test, y_test, pred, langs) if y == "urgent" and p != "urgent"]
    if missed:
        print("\nMissed urgents (text -> predicted):")
        for x, p, l in missed:
            print(f"  [{l}] {x!r} -> {p}")

    # Throughput: time predict() over the whole test set, repeated until the
    # measurement lasts at least --min-seconds.
    model.predict(x_test)  # warm-up
    reps, elapsed = 0, 0.0
    t0 = time.perf_counter()
    while elapsed < args.min_seconds:
        model.predict(x_test)
        reps += 1
        elapsed = time.perf_counter() - t0
    n = reps * len(x_test)
    baseline_rate = n / elapsed
    print(f"\nprediction throughput: {baseline_rate:,.0f} messages/s "
          f"({reps} passes x {len(x_test)} messages in {elapsed:.2f} s, batch predict, 1 process)")

    side_by_side(args, macro, y_test, pred, langs, baseline_rate)
    return 0


def cross_validate(paths) -> int:
    """Out-of-fold scores of the baseline over `paths`, folds as in guichet's pooled sweep."""
    files = [load(p) for p in paths]
    rows = [row for f in files for row in f]
    dev_from = len(rows) - sum(len(f) for f in files[-5:])
    seen, fold = {}, []
    for r in rows:
        key = (r["label"], r["lang"])
        fold.append(seen.get(key, 0) % 5)
        seen[key] = seen.get(key, 0) + 1
    pred = [None] * len(rows)
    for k in range(5):
        model = build_model().fit([r["text"] for r, f in zip(rows, fold) if f != k],
                                  [r["label"] for r, f in zip(rows, fold) if f != k])
        idx = [i for i, f in enumerate(fold) if f == k]
        for i, p in zip(idx, model.predict([rows[i]["text"] for i in idx])):
            pred[i] = p
    for name, idx in (("all", range(len(rows))), ("dev", range(dev_from, len(rows)))):
        idx = list(idx)
        yt = [rows[i]["label"] for i in idx]
        yp = [pred[i] for i in idx]
        line = f"{name}: n={len(idx)} macro-F1 {f1_score(yt, yp, labels=LABELS, average='macro'):.3f}"
        for lang in ("fr", "en"):
            sel = [j for j, i in enumerate(idx) if rows[i]["lang"] == lang]
            lt, lp = [yt[j] for j in sel], [yp[j] for j in sel]
            m = f1_score(lt, lp, labels=LABELS, average="macro", zero_division=0)
            ur = recall_score(lt, lp, labels=["urgent"], average=None, zero_division=0)[0]
            line += f"  {lang} {m:.3f} (urgent recall {ur:.3f})"
        false_urgent = sum(1 for a, b in zip(yt, yp) if b == "urgent" and a != "urgent")
        line += f"  false urgents {false_urgent}"
        print(line)
    return 0


def side_by_side(args, macro, y_test, pred, langs, baseline_rate):
    """Runs `guichet eval --json` on the same test file and prints both."""
    if not args.guichet.exists():
        print(f"\n{args.guichet} not found: run `cargo build --release` for the comparison")
        return
    out = subprocess.run([str(args.guichet), "eval", str(args.test), "--json"],
                         capture_output=True, text=True, check=True)
    g = json.loads(out.stdout)

    def lang_scores(lang):
        idx = [i for i, l in enumerate(langs) if l == lang]
        yt, yp = [y_test[i] for i in idx], [pred[i] for i in idx]
        m = f1_score(yt, yp, labels=LABELS, average="macro", zero_division=0)
        ur = recall_score(yt, yp, labels=["urgent"], average=None, zero_division=0)[0]
        return m, ur

    g_lang = {entry["language"]: entry for entry in g["languages"]}
    rows = [("macro-F1", f"{macro:.3f}", f"{g['macro_f1']:.3f}")]
    for lang in ("fr", "en"):
        m, ur = lang_scores(lang)
        rows.append((f"macro-F1 {lang}", f"{m:.3f}", f"{g_lang[lang]['macro_f1']:.3f}"))
        rows.append((f"urgent recall {lang}", f"{ur:.3f}", f"{g_lang[lang]['urgent_recall']:.3f}"))
    g_false = g["confusion"][0][2] + g["confusion"][1][2]
    b_false = sum(1 for y, p in zip(y_test, pred) if p == "urgent" and y != "urgent")
    rows.append(("false urgents", f"{b_false} ({b_false / len(pred):.1%})",
                 f"{g_false} ({g_false / len(pred):.1%})"))
    rows.append(("messages/s (1 core)", f"{baseline_rate:,.0f}",
                 f"{g['timing']['messages_per_second']:,.0f}"))
    rows.append(("model start-up", "-", f"{g['timing']['startup_ms']:.0f} ms"))
    print("\nside by side, same test file:")
    print(f"  {'':22} {'TF-IDF + LinearSVC':>20} {'guichet':>12}")
    for name, b, gv in rows:
        print(f"  {name:22} {b:>20} {gv:>12}")


if __name__ == "__main__":
    sys.exit(main())
