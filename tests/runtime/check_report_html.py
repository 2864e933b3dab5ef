#!/usr/bin/env python3
"""Checks that `mixpe report` output is well formed (ctest report_html_wellformed).

Usage: check_report_html.py MIXPE_BINARY WORKDIR

Generates two simulate JSONs of one workload, a compare JSON and a small sweep with the given
binary, renders them with `mixpe report --svg-dir`, then checks with the standard library only:
the page parses with balanced tags, holds no script and no network reference, every inline <svg>
and every standalone .svg parses as XML in the SVG namespace, and the expected charts are there.
"""
import html.parser
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

SPEC = """workloads:
  - {model: tiny, phase: [prefill, decode], batch: 1, seq: 32}
hw: mixpe_w4a8_32x32
vary:
  array.rows: [16, 32]
  dram.preset: [ideal_1024b, ddr4_3200]
"""

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def run(args, expect_ok=True):
    p = subprocess.run(args, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(args)} exited {p.returncode}:\n{p.stdout}{p.stderr}")
    return p


class PageParser(html.parser.HTMLParser):
    """Collects ids and external references and checks that every element is closed in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.ids, self.errors, self.refs, self.tags = [], [], [], [], {}

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        for key in ("src", "href", "xlink:href"):
            if key in a and not (a[key] or "").startswith("#"):
                self.refs.append(f"<{tag} {key}={a[key]}>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        # Self-closing (SVG) elements open and close at once.
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> at line {self.getpos()[0]} closes <{self.stack[-1] if self.stack else 'nothing'}>")
            return
        self.stack.pop()


def check_svg_root(root, where):
    check(root.tag == SVG_NS + "svg", f"{where}: root is {root.tag}, not an SVG <svg>")
    title = root.find(SVG_NS + "title")
    check(title is not None and (title.text or "").strip() != "", f"{where}: no <title>")
    texts = ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]
    check(len(texts) >= 3, f"{where}: {len(texts)} text elements (title, axis labels expected)")
    return title.text if title is not None else ""


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mixpe, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    j = lambda name: os.path.join(work, name)
    common = ["--model", "tiny", "--phase", "prefill", "--seq", "32", "--executor", "analytic"]
    run([mixpe, "simulate", *common, "--hw", "mixpe_w4a8_32x32", "--json", j("r1.json"), "-q"])
    run([mixpe, "simulate", *common, "--hw", "int8_32x32", "--json", j("r2.json"), "-q"])
    run([mixpe, "compare", *common, "--hw", "fp16_32x28,mixpe_w4a8_64x64", "--json", j("c.json")])
    with open(j("spec.yaml"), "w") as f:
        f.write(SPEC)
    run([mixpe, "sweep", j("spec.yaml"), "-o", j("s.csv"), "-q", "--jobs", "1"])
    inputs = [j("r1.json"), j("r2.json"), j("c.json"), j("s.csv"), j("s.pareto.json")]
    run([mixpe, "report", *inputs, "-o", j("report.html"), "--svg-dir", j("svg"), "--title", "Check <&> report", "-q"])

    with open(j("report.html"), encoding="utf-8") as f:
        page = f.read()
    parser = PageParser()
    parser.feed(page)
    parser.close()
    check(not parser.errors, f"unbalanced tags: {parser.errors[:5]}")
    check(not parser.stack, f"unclosed elements at the end: {parser.stack}")
    check(len(parser.ids) == len(set(parser.ids)), "duplicate ids in the page")
    check(parser.tags.get("script", 0) == 0, "the page has a <script>")
    check(not parser.refs, f"external references: {parser.refs[:5]}")
    check(re.search(r"@import|url\(|https?://(?!www\.w3\.org/2000/svg)", page) is None, "a network reference in the page")
    check("<title>Check &lt;&amp;&gt; report</title>" in page, "the escaped title")

    inline = re.findall(r"<svg\b.*?</svg>", page, flags=re.S)
    ids, titles = [], {}
    for i, text in enumerate(inline):
        try:
            root = ET.fromstring(text)
        except ET.ParseError as e:
            check(False, f"inline svg {i}: {e}")
            continue
        ids.append(root.get("id"))
        titles[root.get("id")] = check_svg_root(root, f"inline svg {root.get('id')}")
    check(parser.tags.get("figure", 0) == len(inline), f"{parser.tags.get('figure', 0)} figures for {len(inline)} charts")
    check(parser.tags.get("figcaption", 0) == len(inline), "a chart without a caption")

    expected = {
        "sim1-op-latency": "Slowest ops",
        "sim1-op-energy": "energy-hungry",
        "sim1-energy-breakdown": "Energy breakdown",
        "sim1-time-by-kind": "Time by op kind",
        "sim1-roofline": "Roofline",
        "sim2-roofline": "Roofline",
        "compare3-norm-time": "Normalized time",
        "compare3-norm-energy": "Normalized energy",
        "compare3-energy": "Energy per design",
        "sweep4-w1-latency-energy": "latency vs energy",
        "sweep4-w2-latency-energy": "latency vs energy",
        "shared5-latency": "Latency per design",
        "shared5-energy": "Energy per design",
    }
    for cid, title in expected.items():
        check(cid in ids, f"chart {cid} missing")
        check(title in titles.get(cid, ""), f"chart {cid}: title '{titles.get(cid)}' lacks '{title}'")

    # Each sweep workload has 4 ok points: markers of the front plus the others.
    for cid in ("sweep4-w1-latency-energy", "sweep4-w2-latency-energy"):
        text = next((t for t in inline if f'id="{cid}"' in t), "")
        marks = text.count('class="point"') + text.count('class="front"')
        check(marks == 4, f"{cid}: {marks} point markers, expected 4")
        check(text.count('class="front"') >= 1, f"{cid}: no Pareto front point")

    files = sorted(os.listdir(j("svg")))
    check(sorted(f"{i}.svg" for i in ids) == files, f"standalone files {files} do not match the inline charts {ids}")
    for name in files:
        path = os.path.join(j("svg"), name)
        with open(path, encoding="utf-8") as f:
            head = f.read(60)
        check(head.startswith('<?xml version="1.0" encoding="UTF-8"?>'), f"{name}: no XML declaration")
        try:
            check_svg_root(ET.parse(path).getroot(), name)
        except ET.ParseError as e:
            check(False, f"{name}: {e}")

    # A bad input: an error naming the file, and nothing written.
    with open(j("bad.json"), "w") as f:
        f.write('{"schema": "mixpe.nothing/1"}')
    p = run([mixpe, "report", j("r1.json"), j("bad.json"), "-o", j("bad.html"), "--svg-dir", j("bad_svg")], expect_ok=False)
    check(p.returncode != 0, "a bad input did not fail")
    check(j("bad.json") + ": schema" in p.stderr, f"the error does not name the file: {p.stderr.strip()}")
    check(not os.path.exists(j("bad.html")) and not os.path.exists(j("bad_svg")), "output written despite a bad input")

    if failures:
        for f in failures:
            print("FAIL:", f)
        sys.exit(1)
    print(f"ok: {len(inline)} inline charts, {len(files)} standalone SVGs, page {len(page)} bytes")


if __name__ == "__main__":
    main()
