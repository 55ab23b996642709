"""Reports as CSV (spreadsheet-safe: cells that a spreadsheet would run as formulas are quoted)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from app.reports.schemas import DeflectionReport, GapReport

# What a report endpoint's OpenAPI says of its format=csv answer.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}}}


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # CSV injection: never let a spreadsheet evaluate user text
    return value


def deflection_csv(report: DeflectionReport) -> str:
    rows = [{"key": "total", **report.totals.model_dump()}] + [group.model_dump() for group in report.groups]
    output = io.StringIO()
    writer = csv.DictWriter(output, fieldnames=list(rows[0]), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return output.getvalue()


def gaps_csv(report: GapReport) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(
        [
            "rank",
            "label",
            "verdict",
            "volume",
            "share",
            "failure_rate",
            "impact",
            "previous_volume",
            "closest_article",
            "similarity",
            "examples",
            "query_ids",
            "ticket_ids",
            "imported_tickets",
            "topic_id",
            "new_inquiries",
            "representative_question",
        ]
    )
    for rank, topic in enumerate(report.topics, start=1):
        writer.writerow(
            [
                _cell(v)
                for v in (
                    rank,
                    topic.label,
                    topic.verdict,
                    topic.volume,
                    topic.share,
                    topic.failure_rate,
                    topic.impact,
                    topic.trend.previous_volume,
                    topic.closest_article.article_id,
                    topic.closest_article.similarity,
                    " | ".join(topic.examples),
                    " ".join(topic.query_ids),
                    " ".join(topic.ticket_ids),
                    topic.signals.get("imported_ticket", 0),
                    topic.topic_id,
                    topic.new_inquiries,
                    topic.representative_question,
                )
            ]
        )
    return output.getvalue()


def rows_csv(rows: Sequence[BaseModel], columns: list[str]) -> str:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(columns)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow([_cell(values.get(column)) for column in columns])
    return output.getvalue()
