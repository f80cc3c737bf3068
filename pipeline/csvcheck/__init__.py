"""Check a bulk-import CSV against its Personalize schema: streaming, bounded memory, all problems at once.

Speed: the file is read in blocks of whole lines. A block first goes through a fast path made of
whole-block and whole-column operations that run in C (`fast`: bytes.translate, split, join,
set/Counter updates; `fast_numpy` for big files); it proves the block clean without a Python-level step
per value. Any block a fast path cannot prove clean (a quote, a carriage return, a wrong shape, a bad
value) is checked again row by row (`exact`, with the csv module), which finds and words each problem.
Every path records into the same per-file state (`core`), so they agree by construction on statistics
and ids; the tests run every bad input through all of them. `check` drives them; `worker` is the
second process that checks half of a big local file.

Memory: one block (a few MB) at a time, plus the distinct user and item ids (bounded by cardinality,
not by the file's length), plus at most `max_per_kind` problems per kind.

Named for what it does rather than `csv`: a package `pipeline/csv/` would read like the standard
library's csv module (which `exact` uses), and `from pipeline import csv` would shadow it.
"""

from pipeline.csvcheck.check import check_csv
from pipeline.csvcheck.core import MIN_INTERACTIONS, TRAINING_ONLY_CODES, CsvResult, CsvStats, peak_rss_kb

__all__ = ["MIN_INTERACTIONS", "TRAINING_ONLY_CODES", "CsvResult", "CsvStats", "check_csv", "peak_rss_kb"]
