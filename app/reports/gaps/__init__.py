"""Gap topics: failing inquiries clustered into the needs no article answers (docs/gap-report.md)."""
