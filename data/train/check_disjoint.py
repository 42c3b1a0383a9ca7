#!/usr/bin/env python3
"""Check that training texts are disjoint from the evaluation texts.

Usage:
  python3 data/train/check_disjoint.py --train FILE [FILE ...] --eval FILE [FILE ...]
  python3 data/train/check_disjoint.py --self-test

A training file is either plain text (one message per line) or JSONL (one object per line with
a "text" key); the format is detected per line (a line that starts with "{" and parses as a JSON
object with a "text" string is JSONL). Evaluation files are read the same way, so they are
normally data/classify/*.jsonl.

The rule (the generators in this folder apply the same rule, imported from this file):

  normalize(t): lowercase; delete apostrophes; turn every other character that is not an ASCII
                letter or digit into a space; collapse runs of whitespace; strip.
  A training text OVERLAPS an evaluation text when
    (a) their normalized forms are equal, or
    (b) at least half of the training text's distinct word 5-grams (words of the normalized
        form) also occur among the 5-grams of that one evaluation text.
  A training text with fewer than five words has no 5-grams and can only fail by (a).

Exit status: 0 when no training text overlaps any evaluation text, 1 when some do (each one is
printed with the evaluation text it overlaps), 2 on a usage or input error.
Standard library only.
"""

import json
import sys

USAGE = "check_disjoint: give --train FILE... --eval FILE... (or --self-test)\n"
NGRAM = 5
THRESHOLD = 0.5


def normalize(text):
    out = []
    for ch in text.lower():
        if ch == "'":
            continue
        if ("a" <= ch <= "z") or ("0" <= ch <= "9"):
            out.append(ch)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def ngrams(norm, n=NGRAM):
    words = norm.split()
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


class EvalIndex:
    """The evaluation texts, indexed for the overlap rule."""

    def __init__(self, texts):
        self.texts = list(texts)
        self.exact = {}
        self.grams = {}
        for i, t in enumerate(self.texts):
            norm = normalize(t)
            self.exact.setdefault(norm, i)
            for g in ngrams(norm):
                self.grams.setdefault(g, set()).add(i)

    def overlap(self, text):
        """Return None if `text` is disjoint, else (reason, eval_text, fraction)."""
        norm = normalize(text)
        if norm in self.exact:
            return ("exact", self.texts[self.exact[norm]], 1.0)
        grams = ngrams(norm)
        if not grams:
            return None
        counts = {}
        for g in grams:
            for i in self.grams.get(g, ()):
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return None
        best = min(counts, key=lambda i: (-counts[i], i))
        frac = counts[best] / len(grams)
        if frac >= THRESHOLD:
            return ("near", self.texts[best], frac)
        return None


def read_texts(path):
    """Return [(line_number, text)] for the non-empty lines of `path`."""
    items = []
    with open(path, encoding="utf-8") as f:
        for num, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            text = line
            if line.lstrip().startswith("{"):
                try:
                    obj = json.loads(line)
                except ValueError:
                    obj = None
                if isinstance(obj, dict) and isinstance(obj.get("text"), str):
                    text = obj["text"]
            items.append((num, text))
    return items


def check(train_paths, eval_paths, out=sys.stdout):
    eval_texts = []
    for p in eval_paths:
        eval_texts.extend(t for _, t in read_texts(p))
    index = EvalIndex(eval_texts)
    bad = 0
    total = 0
    for p in train_paths:
        for num, text in read_texts(p):
            total += 1
            hit = index.overlap(text)
            if hit:
                bad += 1
                reason, ev, frac = hit
                out.write("%s:%d: %s overlap (%.0f%% of 5-grams)\n  train: %s\n  eval:  %s\n"
                          % (p, num, reason, 100 * frac, text, ev))
    out.write("check_disjoint: %d training texts against %d evaluation texts: %d overlapping "
              "-- %s\n" % (total, len(eval_texts), bad, "FAIL" if bad else "OK"))
    return bad == 0


def self_test():
    evals = ["The quick brown fox jumps over the lazy dog near the old mill.",
             "Please send the signed contract to the office before Friday noon."]
    index = EvalIndex(evals)
    cases = [
        # exact duplicate up to case, punctuation and spacing
        ("the QUICK brown fox -- jumps over the lazy dog, near the old mill!!", "exact"),
        # near duplicate: one word changed, most 5-grams shared
        ("The quick brown fox jumps over the lazy dog near the new mill.", "near"),
        # near duplicate: a shorter text inside a longer one
        ("Please send the signed contract to the office today.", "near"),
        # apostrophes are deleted, not split
        ("please send the signed contract to the office before friday's noon", "near"),
        # unrelated texts pass
        ("The quick brown cat sleeps all afternoon by the warm stove.", None),
        ("Send me the draft when you have a minute.", None),
        ("Fox.", None),
    ]
    ok = True
    for text, want in cases:
        hit = index.overlap(text)
        got = hit[0] if hit else None
        status = "ok" if got == want else "WRONG"
        if got != want:
            ok = False
        print("self-test %-5s want=%-5s got=%-5s %s" % (status, want, got, text))
    # the file-level entry point: exit-code semantics through check()
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        ev = os.path.join(d, "eval.jsonl")
        tr_bad = os.path.join(d, "bad.txt")
        tr_good = os.path.join(d, "good.jsonl")
        with open(ev, "w", encoding="utf-8") as f:
            for i, t in enumerate(evals):
                f.write(json.dumps({"id": "e-%d" % i, "text": t}) + "\n")
        with open(tr_bad, "w", encoding="utf-8") as f:
            f.write("An unrelated line about lunch plans for Thursday.\n")
            f.write(cases[0][0] + "\n" + cases[1][0] + "\n")
        with open(tr_good, "w", encoding="utf-8") as f:
            f.write(json.dumps({"id": "t-0", "text": cases[4][0]}) + "\n")
        sink = open(os.devnull, "w")
        if check([tr_bad], [ev], out=sink):
            print("self-test WRONG: file with an exact and a near duplicate passed")
            ok = False
        if not check([tr_good], [ev], out=sink):
            print("self-test WRONG: clean file failed")
            ok = False
        sink.close()
    print("self-test: %s" % ("OK" if ok else "FAIL"))
    return ok


def main(argv):
    if argv == ["--self-test"]:
        return 0 if self_test() else 1
    train, evals, cur = [], [], None
    for a in argv:
        if a == "--train":
            cur = train
        elif a == "--eval":
            cur = evals
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        elif cur is None:
            sys.stderr.write(USAGE)
            return 2
        else:
            cur.append(a)
    if not train or not evals:
        sys.stderr.write(USAGE)
        return 2
    try:
        return 0 if check(train, evals) else 1
    except OSError as e:
        sys.stderr.write("check_disjoint: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
