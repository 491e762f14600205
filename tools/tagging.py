"""Measure and explain the topic tagger.

    python tools/tagging.py eval DATA.jsonl [--predictions OUT.jsonl]
    python tools/tagging.py report [--json topics-report.json]

`eval` reads JSON lines with at least `id`, `title` and `text` (and `labels`,
a list of topic slugs, where known), prints precision, recall and F1 per topic
and micro-averaged over the labelled items, and with --predictions writes one
line per item: {"id": ..., "topics": [...], "evidence": {...}}.

`report` builds the site's content in a temporary folder and prints each
post's and thread's topics with their evidence, and writes the same as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from pelican.plugins.topics.evaluate import evaluate  # noqa: E402
from pelican.plugins.topics.vocabulary import VocabularyError, load  # noqa: E402

DEFAULT_VOCABULARY = ROOT / "content" / "topics.toml"


def _evidence_json(evidence: dict, chosen: list[str]) -> dict:
    out = {}
    for topic in chosen:
        found = evidence[topic]
        out[topic] = {"score": round(found.score, 3), "hits": found.hits, "count": found.hit_count}
        if found.probability is not None:  # the learned layer's word on it
            out[topic]["probability"] = round(found.probability, 3)
    return out


def read_items(path: Path) -> list[dict]:
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SystemExit(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
            missing = [k for k in ("id", "title", "text") if k not in item]
            if missing:
                raise SystemExit(
                    f"{path}:{number}: missing {', '.join(missing)}; "
                    "each line needs id, title and text"
                )
            items.append(item)
    return items


def run_eval(args) -> int:
    vocabulary = load(args.vocabulary, with_model=not args.rules_only)
    items = read_items(args.data)
    unknown = sorted(
        {label for item in items for label in item.get("labels", [])} - set(vocabulary.topics)
    )
    if unknown:
        print(f"{args.data}: labels not in the vocabulary: {', '.join(unknown)}", file=sys.stderr)
        return 2
    pairs, out, scores = [], [], []
    for item in items:
        chosen, evidence = vocabulary.tag({"title": item["title"], "body": item["text"]})
        out.append(
            {"id": item["id"], "topics": chosen, "evidence": _evidence_json(evidence, chosen)}
        )
        scores.append({t: round(e.score, 2) for t, e in evidence.items() if e.score})
        if "labels" in item:
            pairs.append((set(item["labels"]), set(chosen)))
    if args.predictions:
        with args.predictions.open("w", encoding="utf-8") as handle:
            for line in out:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    if not pairs:
        print(f"{len(items)} items, none labelled: predictions only.")
        return 0
    per_topic, micro = evaluate(pairs, list(vocabulary.topics))
    print(f"{'topic':<15} {'P':>6} {'R':>6} {'F1':>6}   tp  fp  fn")
    for topic, c in per_topic.items():
        print(
            f"{topic:<15} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f}  "
            f"{c.tp:3d} {c.fp:3d} {c.fn:3d}"
        )
    print(
        f"{'micro':<15} {micro.precision:6.3f} {micro.recall:6.3f} {micro.f1:6.3f}  "
        f"{micro.tp:3d} {micro.fp:3d} {micro.fn:3d}   ({len(pairs)} labelled items)"
    )
    if args.verbose:
        for item, line, score in zip(items, out, scores, strict=True):
            gold = set(item.get("labels", []))
            if "labels" in item and gold != set(line["topics"]):
                print(f"  {item['id']}: gold {sorted(gold)} got {line['topics']}  {score}")
    return 0


def run_report(args) -> int:
    from tools.build import run_pelican

    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        collector = run_pelican(
            args.settings, Path(tmp) / "out", {"TOPICS_REPORT": str(report_path)}
        )
        if not report_path.exists():
            for record in collector.records:
                print(record.getMessage(), file=sys.stderr)
            print("The build wrote no topic report.", file=sys.stderr)
            return 1
        report = json.loads(report_path.read_text(encoding="utf-8"))
    for entry in report:
        print(f"{entry['source']}\n  {entry['title']}")
        if not entry["topics"]:
            print("  (no topic)")
        for topic in entry["topics"]:
            detail = entry["evidence"].get(topic)
            if detail is None:
                print(f"  - {topic}: set by hand")
                continue
            hits = ", ".join(f"{h['text']!r} ({h['field']})" for h in detail["hits"][:6])
            more = detail["count"] - min(6, len(detail["hits"]))
            model = f" (model {detail['probability']:.2f})" if "probability" in detail else ""
            print(
                f"  - {topic} {detail['score']:.2f}{model}: {hits}"
                + (f" and {more} more" if more > 0 else "")
            )
    args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\nWrote {args.json}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("eval", help="precision, recall and F1 on labelled JSON lines")
    ev.add_argument("data", type=Path)
    ev.add_argument("--predictions", type=Path, help="write one JSON line per item here")
    ev.add_argument("--vocabulary", type=Path, default=DEFAULT_VOCABULARY)
    ev.add_argument("-v", "--verbose", action="store_true", help="list every wrong item")
    ev.add_argument("--rules-only", action="store_true", help="without the learned layer ([model])")
    rep = sub.add_parser("report", help="each item's topics with their evidence")
    rep.add_argument("--settings", type=Path, default=ROOT / "pelicanconf.py")
    rep.add_argument("--json", type=Path, default=Path("topics-report.json"))
    args = parser.parse_args(argv)
    try:
        return run_eval(args) if args.command == "eval" else run_report(args)
    except VocabularyError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
