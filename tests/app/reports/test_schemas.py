import datetime as dt

from app.reports.schemas import LiveGapTopics, ReportPeriod


def test_a_report_period_reads_back_the_json_it_writes() -> None:
    start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    period = ReportPeriod(from_=start, to=start + dt.timedelta(days=7))
    written = period.model_dump(mode="json", by_alias=True)
    assert written["from"] == "2026-12-01T00:00:00+00:00" and "from_" not in written
    assert ReportPeriod.model_validate(written) == period
    live = LiveGapTopics(computed_at=None, from_=start, to=None, topics=[])
    assert LiveGapTopics.model_validate(live.model_dump(mode="json", by_alias=True)) == live
