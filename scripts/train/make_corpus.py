"""Dumps the King James Bible from Debian's bible-kjv-text and splits it deterministically into train/val/test."""
import argparse
import os
import re
import subprocess

# Full verse range of the KJV as understood by the `bible` program (package bible-kjv).
_ALL_VERSES = "gen1:1-rev22:21"
_HEADER = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^ +(\d+) (.*)$")


def dump_bible(bible="/usr/bin/bible"):
    """Returns the raw text printed by `bible`; a huge line width keeps each verse on one line."""
    try:
        out = subprocess.run([bible, "-l100000", _ALL_VERSES], stdin=subprocess.DEVNULL,
                             capture_output=True, check=True)
    except FileNotFoundError as e:
        raise SystemExit(f"{bible}: not found; install the Debian package bible-kjv") from e
    return out.stdout.decode("ascii")


def parse_chapters(raw):
    """Splits the dump into chapter documents "Book C\\n1 verse\\n2 verse\\n...\\n" in canonical order."""
    chapters, cur = [], None
    for line in raw.splitlines():
        if not line.strip():
            continue
        m = _VERSE.match(line)
        if m:
            if cur is None:
                raise ValueError(f"bible dump: verse before any chapter header: {line!r}")
            cur.append(f"{m.group(1)} {m.group(2).strip()}")
            continue
        h = _HEADER.match(line)
        if not h:
            raise ValueError(f"bible dump: unexpected line {line!r}")
        cur = [line.strip()]
        chapters.append(cur)
    docs = ["\n".join(c) + "\n" for c in chapters]
    if len(docs) != 1189:
        raise ValueError(f"bible dump: expected 1189 chapters, got {len(docs)}")
    return docs


def split_chapters(docs, test_frac=0.05, val_every=20):
    """Test = the last whole chapters covering >= test_frac of the characters (a contiguous block that
    no training run sees); validation = every val_every-th of the remaining chapters, so it samples
    every part of the book the model is trained on; train = the rest."""
    total = sum(len(d) for d in docs)
    n_test, acc = 0, 0
    while acc < test_frac * total:
        n_test += 1
        acc += len(docs[-n_test])
    rest, test = docs[:-n_test], docs[-n_test:]
    val = [d for i, d in enumerate(rest) if i % val_every == val_every // 2]
    train = [d for i, d in enumerate(rest) if i % val_every != val_every // 2]
    return train, val, test


def calibration_sample(train, target_bytes=50_000, stride=37):
    """Whole training chapters taken at a fixed stride (spread over the whole book) until ~target_bytes."""
    picked, size = [], 0
    for i in range(0, len(train), stride):
        if size >= target_bytes:
            break
        picked.append(train[i])
        size += len(train[i])
    return picked


def join_docs(docs):
    """Chapters are separated by one blank line, so split_docs() can recover them."""
    return "\n".join(docs)


def split_docs(text):
    return [d + "\n" if not d.endswith("\n") else d for d in text.split("\n\n") if d.strip()]


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def make_corpus(out_dir):
    """Returns (train, val, test) chapter lists and writes heldout.txt and calib.txt into out_dir."""
    train, val, test = split_chapters(parse_chapters(dump_bible()))
    os.makedirs(out_dir, exist_ok=True)
    write_text(os.path.join(out_dir, "heldout.txt"), join_docs(test))
    write_text(os.path.join(out_dir, "calib.txt"), join_docs(calibration_sample(train)))
    return train, val, test


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, help="artifact directory (heldout.txt, calib.txt)")
    ap.add_argument("--work", help="optional directory for train.txt / val.txt (not committed)")
    args = ap.parse_args()
    train, val, test = make_corpus(args.out)
    if args.work:
        os.makedirs(args.work, exist_ok=True)
        write_text(os.path.join(args.work, "train.txt"), join_docs(train))
        write_text(os.path.join(args.work, "val.txt"), join_docs(val))
    for name, d in (("train", train), ("val", val), ("test", test)):
        print(f"{name}: {len(d)} chapters, {sum(len(x) for x in d)} bytes, first {d[0].splitlines()[0]!r}")


if __name__ == "__main__":
    main()
