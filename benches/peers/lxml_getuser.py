#!/usr/bin/env python3
"""The Python + lxml peer of `cargo bench --bench decode`'s live GetUser figure.

Does the same work as wbxprov's `decode::<User>` on the same file, N times:
parse the document (lxml.etree.fromstring), check the verdict, walk
bodyContent, and build a typed flat dict (bools, ints, text; lists for list
attributes; `name[2]` for a repeated group's second occurrence). The element
paths and types come from the catalogue, schema/user-attributes.tsv, read once
at start (not timed), as wbxprov builds its path tree once per process.

Run (from the repository root):

    python3 -m venv target/peer-venv && target/peer-venv/bin/pip install lxml
    target/peer-venv/bin/python benches/peers/lxml_getuser.py [N] [FILE]

N defaults to 100000, FILE to fixtures/real/responses/getUser_atlas_examplesite.xml.
Prints `lxml_live_getuser_users_per_s=<x>` (the median of 10 rounds of N/10).
"""

import csv
import re
import statistics
import sys
import time
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "schema" / "user-attributes.tsv"
LIVE_GETUSER = ROOT / "fixtures" / "real" / "responses" / "getUser_atlas_examplesite.xml"
SERVICE = "{http://www.webex.com/schemas/2002/06/service}"


def load_tree():
    """Nested dicts by local name; a leaf is (flat name, kind, is_list); a
    repeated group is marked with its maximum under the key '#repeat'."""
    tree = {}
    rows = (line for line in CATALOGUE.open(encoding="utf-8") if not line.startswith("#"))
    for row in csv.DictReader(rows, delimiter="\t"):
        if "g" not in row["ops"]:
            continue
        segments = row["path"].split("/")
        node = tree
        for segment in segments[:-1]:
            local = segment.split(":")[-1]
            repeat = re.search(r"\[(\d+)\]$", local)
            local = re.sub(r"\[\d+\]$", "", local)
            node = node.setdefault(local, {})
            if repeat:
                node["#repeat"] = int(repeat.group(1))
        kind = row["type"]
        is_list = kind.startswith("list(")
        inner = kind[5:-1] if is_list else kind
        if inner == "bool":
            kind = "bool"
        elif inner.startswith(("int", "long")):
            kind = "int"
        else:
            kind = "text"
        node[segments[-1].split(":")[-1]] = (row["name"], kind, is_list)
    return tree


def local(tag):
    return tag.rpartition("}")[2]


def typed(kind, text):
    if kind == "text":
        return text
    text = text.strip()
    if not text:
        return None
    if kind == "int":
        return int(text)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"not a boolean: {text!r}")


def walk(element, node, slot, flat):
    seen = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        entry = node.get(local(child.tag))
        if entry is None:
            continue  # unknown element, skipped as wbxprov skips it
        if isinstance(entry, tuple):
            name, kind, is_list = entry
            key = name if slot == 0 else f"{name}[{slot + 1}]"
            value = typed(kind, child.text or "")
            if value is None:
                continue
            if is_list:
                flat.setdefault(key, []).append(value)
            else:
                flat[key] = value
        elif "#repeat" in entry:
            n = seen.get(child.tag, 0)
            seen[child.tag] = n + 1
            if n < entry["#repeat"]:
                walk(child, entry, n, flat)
        else:
            walk(child, entry, slot, flat)


def decode(data, tree):
    root = etree.fromstring(data)
    if root.findtext(f"{SERVICE}header/{SERVICE}response/{SERVICE}result").strip() != "SUCCESS":
        raise ValueError("not a SUCCESS")
    body = root.find(f"{SERVICE}body/{SERVICE}bodyContent")
    flat = {}
    walk(body, tree, 0, flat)
    return flat


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    path = Path(sys.argv[2]) if len(sys.argv) > 2 else LIVE_GETUSER
    data = path.read_bytes()
    tree = load_tree()
    flat = decode(data, tree)
    rounds = 10 if n >= 10 else 1
    per_round = n // rounds
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            decode(data, tree)
        times.append(time.perf_counter() - start)
    rate = per_round / statistics.median(times)
    print(f"lxml_live_getuser ({len(data)} bytes, {len(flat)} values, {per_round * rounds} decodes)")
    print(f"lxml_live_getuser_users_per_s={rate:.0f}")


if __name__ == "__main__":
    main()
