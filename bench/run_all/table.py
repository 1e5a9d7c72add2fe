"""The table printed, the chart drawn, latest.json written (a partial run combined with the
previous one).
"""

from __future__ import annotations

import json
from pathlib import Path

from .benches import BENCHES, RESULTS


def number(value, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "queries":
        return f"{value:,.0f}"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "s":
        return f"{value:,.1f} s"
    if unit == "cpu s":  # CPU seconds: from thousandths (a bulk insert) to tens
        return f"{value:.3g} s"
    return f"{value:,.1f}/s" if value < 100 else f"{value:,.0f}/s"


def table(rows: list[dict]) -> str:
    header = (
        f"{'figure':<46} {'ours':>12} {'baseline':>12} {'x slower':>10} "
        f"{'SQL per unit':>22}  {'check':<5}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:,.1f}x"
        sql = "-" if r["sql_per_unit"] is None else f"{r['sql_per_unit']:g} / {r['sql_unit']}"
        lines.append(
            f"{r['figure']:<46} {number(r['ours'], r['unit']):>12} "
            f"{number(r['baseline'], r['unit']):>12} {ratio:>10} {sql:>22}  "
            f"{'OK' if r['ok'] else 'FAIL':<5}"
        )
    return "\n".join(lines)


def chart(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = [r for r in rows if r["ratio"] is not None]
    if not drawn:
        return
    labels = [r["figure"] for r in drawn][::-1]
    ratios = [r["ratio"] for r in drawn][::-1]
    colors = [
        "#c0392b" if not r["ok"] else "#e67e22" if r["ratio"] > 5 else "#2e86c1" for r in drawn
    ][::-1]
    fig, ax = plt.subplots(figsize=(11, 0.38 * len(drawn) + 1.6))
    bars = ax.barh(labels, ratios, color=colors)
    ax.set_xscale("log")
    ax.axvline(1, color="black", linewidth=0.8)
    ax.axvline(5, color="#e67e22", linewidth=0.8, linestyle="--")
    for bar, ratio in zip(bars, ratios, strict=True):
        ax.text(
            bar.get_width() * 1.05,
            bar.get_y() + bar.get_height() / 2,
            f"{ratio:,.1f}x",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0.8, max(ratios) * 3)
    ax.set_xlabel(
        "times slower than the baseline measured in the same run (log scale; 1 = as fast)"
    )
    ax.set_title(title, fontsize=10)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def combine(previous: dict, newer: dict) -> dict:
    """latest.json after a partial run: the newer run's benches replace the previous ones;
    each bench keeps the timestamp of the run it comes from (its ratio was measured side by
    side within that run)."""
    runs = dict(
        previous.get("runs") or dict.fromkeys(previous.get("benches", {}), previous["timestamp"])
    )
    benches = dict(previous.get("benches", {}))
    for name, result in newer["benches"].items():
        benches[name] = result
        runs[name] = newer["timestamp"]
    order = [b.name for b in BENCHES]
    rows = [r for r in previous.get("rows", []) if r["bench"] not in newer["benches"]]
    rows += newer["rows"]
    rows.sort(key=lambda r: order.index(r["bench"]) if r["bench"] in order else len(order))
    return {
        **newer,
        "timestamp": max(runs.values()),
        "mode": "+".join(sorted({previous.get("mode", "?"), newer["mode"]})),
        "rows": rows,
        "benches": benches,
        "runs": runs,
        "failed": [name for name, result in benches.items() if result.get("error")],
    }


def write_latest(document: dict) -> None:
    (RESULTS / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    title = (
        f"make bench ({document['mode']} sizes), {document['timestamp']}, code {document['code']}"
    )
    try:
        chart(document["rows"], RESULTS / "latest.png", title)
    except Exception as error:  # no chart must not lose the table
        print(f"no chart ({type(error).__name__}: {error})")
