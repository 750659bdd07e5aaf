"""The training engine: the fit loop, data checks, progress, summary (issue 4)."""
