"""Byte-level BPE (GPT-2 style) trainer and encoder that saves Hugging Face tokenizer.json files."""
import argparse
import collections
import json
import os
import re

# Pre-tokenization works on UTF-8 bytes, not code points: Python's `re` has no \p{L}/\p{N}, and a C++
# port should not need Unicode tables. ASCII follows GPT-2 exactly; every byte >= 0x80 counts as a
# letter, so a multi-byte UTF-8 character always stays whole inside one letter run.
_LETTER = rb"A-Za-z\x80-\xff"
_DIGIT = rb"0-9"
_SPACE = rb"\t\n\x0b\x0c\r "
PRETOKEN_RE = re.compile(
    rb"'s|'t|'re|'ve|'m|'ll|'d"
    rb"| ?[" + _LETTER + rb"]+"
    rb"| ?[" + _DIGIT + rb"]+"
    rb"| ?[^" + _SPACE + _LETTER + _DIGIT + rb"]+"
    rb"|[" + _SPACE + rb"]+(?![^" + _SPACE + rb"])"
    rb"|[" + _SPACE + rb"]+")

BOS, EOS = "<s>", "</s>"
# Ids 0..255 are the raw bytes (id == byte value), then the special tokens, then one id per merge.
BOS_ID, EOS_ID = 256, 257
FIRST_MERGE_ID = 258


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map used for token strings in tokenizer.json."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


_B2U = bytes_to_unicode()


def pretokenize(text):
    """Returns the pre-tokens of text as byte strings (they concatenate back to text's UTF-8)."""
    data = text.encode("utf-8")
    pieces = PRETOKEN_RE.findall(data)
    assert b"".join(pieces) == data
    return pieces


def train_bpe(docs, vocab_size=1024):
    """Returns the merge list [(left_id, right_id)] learned from the documents.

    Ties between equally frequent pairs go to the smallest (left_id, right_id) so training is
    deterministic regardless of dict ordering."""
    n_merges = vocab_size - FIRST_MERGE_ID
    counts = collections.Counter()
    for d in docs:
        counts.update(pretokenize(d))
    words = [list(w) for w in counts]
    freqs = [counts[w] for w in counts]

    pair_count = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words that contain it
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pair_count[p] += freqs[i]
            where[p].add(i)

    merges = []
    for k in range(n_merges):
        if not pair_count:
            break
        best = min(pair_count.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        new_id = FIRST_MERGE_ID + k
        merges.append(best)
        for i in list(where[best]):
            w, f = words[i], freqs[i]
            for p in zip(w, w[1:]):
                pair_count[p] -= f
                if pair_count[p] <= 0:
                    del pair_count[p]
            merged, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and (w[j], w[j + 1]) == best:
                    merged.append(new_id)
                    j += 2
                else:
                    merged.append(w[j])
                    j += 1
            words[i] = merged
            for p in zip(merged, merged[1:]):
                pair_count[p] += f
                where[p].add(i)
        del where[best]
    return merges


class Tokenizer:
    """Encoder/decoder for the merge list; encode() never adds <s> or </s>."""

    def __init__(self, merges):
        self.merges = [tuple(m) for m in merges]
        self.rank = {m: r for r, m in enumerate(self.merges)}
        self.token_bytes = {b: bytes([b]) for b in range(256)}
        self.token_bytes[BOS_ID] = BOS.encode()
        self.token_bytes[EOS_ID] = EOS.encode()
        for r, (a, b) in enumerate(self.merges):
            self.token_bytes[FIRST_MERGE_ID + r] = self.token_bytes[a] + self.token_bytes[b]
        self.cache = {}

    @property
    def vocab_size(self):
        return FIRST_MERGE_ID + len(self.merges)

    def _bpe(self, piece):
        # Repeatedly apply the lowest-ranked merge present, left to right, as GPT-2 and HF do.
        w = list(piece)
        while len(w) > 1:
            ranked = [(self.rank.get(p, len(self.rank)), j) for j, p in enumerate(zip(w, w[1:]))]
            r, _ = min(ranked)
            if r == len(self.rank):
                break
            a, b = self.merges[r]
            merged, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    merged.append(FIRST_MERGE_ID + r)
                    j += 2
                else:
                    merged.append(w[j])
                    j += 1
            w = merged
        return w

    def encode(self, text):
        ids = []
        for piece in pretokenize(text):
            if piece not in self.cache:
                self.cache[piece] = self._bpe(piece)
            ids.extend(self.cache[piece])
        return ids

    def decode(self, ids):
        return b"".join(self.token_bytes[i] for i in ids).decode("utf-8", errors="replace")

    def token_string(self, i):
        if i in (BOS_ID, EOS_ID):
            return self.token_bytes[i].decode()
        return "".join(_B2U[b] for b in self.token_bytes[i])

    def to_hf_json(self):
        """The Hugging Face tokenizers serialization (ByteLevel pre-tokenizer/decoder, BPE model)."""
        vocab = {self.token_string(i): i for i in range(self.vocab_size)}
        assert len(vocab) == self.vocab_size, "token strings must be unique"
        special = lambda i, s: {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                                "normalized": False, "special": True}
        return {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [special(BOS_ID, BOS), special(EOS_ID, EOS)],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": None,
            "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                      "vocab": vocab,
                      "merges": [f"{self.token_string(a)} {self.token_string(b)}" for a, b in self.merges]},
        }

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.to_hf_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        vocab = j["model"]["vocab"]
        merges = []
        for m in j["model"]["merges"]:
            a, b = m.split(" ")
            merges.append((vocab[a], vocab[b]))
        tok = cls(merges)
        for s, i in vocab.items():
            if tok.token_string(i) != s:
                raise ValueError(f"{path}: vocab entry {s!r} -> {i} does not match the id layout of this encoder")
        return tok


# Strings for zoo/*/tokenizer_cases.json: each exercises one branch of the pre-tokenization rule.
CASES = [
    "",
    " ",
    "   ",
    "\n",
    "\n\n",
    "hello",
    "Hello world",
    "In the beginning God created the heaven and the earth.",
    "  multiple   spaces",
    "trailing spaces   ",
    "tabs\tand\nnewlines\r\n",
    "12 3456 7890",
    "Genesis 1:1",
    "abc123def",
    "God's it's we're they've I'm you'll he'd",
    "'S 'tis don't",
    "Hello, world!!! (yes) -- ok...",
    "a  \n  b",
    "café",
    "naïve façade – “quoted” 日本語",
    "x\x00\x7fy",
    "AND THE LORD SAID UNTO MOSES,",
]


def write_cases(tok, path):
    rows = [{"text": s, "ids": tok.encode(s)} for s in CASES]
    for r in rows:
        assert tok.decode(r["ids"]) == r["text"]
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"note": "ids from scripts/train/bpe.py encode(); no <s>/</s> added", "bos_token_id": BOS_ID,
                   "eos_token_id": EOS_ID, "cases": rows}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--train", required=True, help="training text file (chapters separated by blank lines)")
    ap.add_argument("--out", required=True, help="directory for tokenizer.json and tokenizer_cases.json")
    ap.add_argument("--vocab", type=int, default=1024)
    args = ap.parse_args()
    with open(args.train, encoding="utf-8") as f:
        text = f.read()
    tok = Tokenizer(train_bpe(text.split("\n\n"), args.vocab))
    tok.save(os.path.join(args.out, "tokenizer.json"))
    write_cases(tok, os.path.join(args.out, "tokenizer_cases.json"))
    ids = tok.encode(text)
    print(f"vocab {tok.vocab_size}, train {len(text)} chars -> {len(ids)} tokens ({len(text) / len(ids):.2f} chars/token)")


if __name__ == "__main__":
    main()
