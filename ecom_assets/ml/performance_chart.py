"""Realised ROC-AUC by scoring day per model version, next to the validation ROC-AUC it was promoted with,
drawn as a small self-contained SVG (no plotting library needed in the pipeline)."""

from __future__ import annotations

import datetime as dt
from html import escape

import polars as pl

from ecom_assets.ml.realised import daily_roc_auc

WIDTH, HEIGHT, MARGIN = 640, 280, 48
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def roc_auc_chart(performance: pl.DataFrame) -> str:
    """Solid lines: realised ROC-AUC by day; dashed: each version's validation ROC-AUC."""
    series = daily_roc_auc(performance)
    if series.height == 0:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="40">'
            '<text x="8" y="24">no realised ROC-AUC yet</text></svg>'
        )
    days = series["as_of_date"].to_list()
    first, last = min(days), max(days)
    values = [*series["roc_auc"], *series["validation_roc_auc"].drop_nulls()]
    low, high = min(values) - 0.02, max(values) + 0.02
    span = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return MARGIN + (day - first).days / span * (WIDTH - 2 * MARGIN)

    def y(value: float) -> float:
        return HEIGHT - MARGIN - (value - low) / (high - low) * (HEIGHT - 2 * MARGIN)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{MARGIN}" y="16">Realised ROC-AUC by scoring day (solid), validation ROC-AUC (dashed)'
        "</text>",
        f'<text x="4" y="{y(high - 0.02):.0f}">{high - 0.02:.3f}</text>',
        f'<text x="4" y="{y(low + 0.02):.0f}">{low + 0.02:.3f}</text>',
        f'<text x="{MARGIN}" y="{HEIGHT - 20}">{first}</text>',
        f'<text x="{WIDTH - MARGIN - 60}" y="{HEIGHT - 20}">{last}</text>',
    ]
    for index, ((version,), rows) in enumerate(series.group_by("model_version", maintain_order=True)):
        colour = COLOURS[index % len(COLOURS)]
        days_and_values = zip(rows["as_of_date"], rows["roc_auc"], strict=True)
        points = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in days_and_values)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        validation = rows["validation_roc_auc"][0]
        if validation is not None:
            level = f"{y(validation):.1f}"
            parts.append(
                f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{level}" y2="{level}" '
                f'stroke="{colour}" stroke-dasharray="5,4"/>'
            )
        parts.append(
            f'<text x="{WIDTH - MARGIN - 150}" y="{34 + 14 * index}" fill="{colour}">{escape(version)}</text>'
        )
    return "\n".join([*parts, "</svg>"])
