"""check_csv: the header, then every block through a fast path, and through the exact path when the
fast one cannot prove it clean; big local files are split with a worker process."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.csvcheck import exact
from pipeline.csvcheck.core import Checker, CsvResult, CsvStats, Problems, blocks
from pipeline.csvcheck.fast import PythonBlocks
from pipeline.schema import REQUIRED, check_schema, fields_of

#: Past this many bytes a file's blocks go through the numpy fast path (pipeline.csvcheck.fast_numpy),
#: when numpy is installed; smaller files never import it (synth on the sample data stays light).
NUMPY_AFTER_BYTES = 8 << 20
#: A local file at least this big is checked by two processes, each half (2+ cores, numpy installed).
PARALLEL_AFTER_BYTES = 256 << 20


class _Scan:
    """Runs blocks through a fast path (pure Python, or numpy past NUMPY_AFTER_BYTES) and the exact
    path for blocks the fast path cannot prove clean; keeps the line number."""

    def __init__(self, checker: Checker):
        self.checker = checker
        self.line = 2
        self.seen = 0
        self.quotes = False
        self.python = PythonBlocks(checker)
        #: The numpy fast path once chosen (None before, and always without numpy installed).
        self.numpy: Any = None
        self.numpy_tried = False
        self.worker_peak_kb: int | None = None

    def use_numpy(self) -> None:
        """Every block from now on through numpy, when it is installed."""
        self.numpy_tried = True
        if self.numpy is None:
            self.numpy = _numpy_blocks(self.checker)

    def run(self, chunks: Iterable[bytes]) -> None:
        for block in chunks:
            self.quotes = self.quotes or b'"' in block
            if not self.numpy_tried and self.seen >= NUMPY_AFTER_BYTES:
                self.use_numpy()
            lines = (self.numpy or self.python).fast(block)
            if not lines:
                exact.check_rows(self.checker, block, self.line)
                lines = block.count(b"\n")
            self.line += lines
            self.seen += len(block)

    def merge_worker(self, path: Path, result: dict[str, Any]) -> None:
        """A worker's part, in file order after this process's: its clean blocks' statistics, then the
        exact path here for each block it could not prove clean (so problems keep their order)."""
        from pipeline.csvcheck import worker
        from pipeline.csvcheck.fast_numpy import NumpyBlocks

        if self.numpy is None:
            self.numpy = NumpyBlocks(self.checker)
        worker.merge(self.numpy, result)
        with open(path, "rb") as stream:
            for offset, size, line in result["failed"]:
                stream.seek(offset)
                block = stream.read(size)
                if not block.endswith(b"\n"):
                    block += b"\n"  # the file's last line without its newline, as core.blocks gives it
                exact.check_rows(self.checker, block, self.line + line)
        self.line += result["lines"]
        self.worker_peak_kb = result["peak_kb"]

    def finish(self) -> None:
        """Hand what the numpy path counted to the checker (the pure-Python path recorded as it went)."""
        if self.numpy is not None:
            self.numpy.finish()


def _start_worker(
    path: Path | None, body_start: int, schema: dict[str, Any], dataset_type: str
) -> tuple[Any, int]:
    """For a big local file on a machine with 2+ cores: a worker process for its second half."""
    if path is None or (os.cpu_count() or 1) < 2:
        return None, 0
    size = path.stat().st_size
    if size < PARALLEL_AFTER_BYTES or size - body_start < 2:
        return None, 0
    try:
        import pipeline.csvcheck.fast_numpy  # noqa: F401 - the worker's path: no numpy, no worker
        from pipeline.csvcheck import worker
    except ImportError:
        return None, 0
    middle = worker.split_point(path, body_start + (size - body_start) // 2)
    if middle is None or middle >= size:
        return None, 0
    return worker.start_worker(path, middle, size, schema, dataset_type), middle


def _numpy_blocks(checker: Checker) -> Any:
    """The numpy fast path for a big file, or None when numpy is not installed."""
    try:
        from pipeline.csvcheck.fast_numpy import NumpyBlocks
    except ImportError:
        return None
    return NumpyBlocks(checker)


def _first_line(stream: BinaryIO) -> tuple[bytes, bytes]:
    """The header line and what was read past it, with read() only (S3 bodies have no readline)."""
    data = b""
    while True:
        chunk = stream.read(64 * 1024)
        data += chunk
        end = data.find(b"\n")
        if end >= 0:
            return data[: end + 1], data[end + 1 :]
        if not chunk:
            return data, b""


def check_csv(
    source: Path | BinaryIO,
    schema: dict[str, Any],
    dataset_type: str,
    *,
    file: str,
    max_per_kind: int = 5,
) -> CsvResult:
    """Check a CSV file (path or binary stream) against its schema; a schema check_schema rejects
    is one problem (the data cannot be checked), not a crash."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as stream:
            return _check_stream(stream, schema, dataset_type, file, max_per_kind, Path(source))
    return _check_stream(source, schema, dataset_type, file, max_per_kind, None)


def _check_stream(
    source: BinaryIO,
    schema: dict[str, Any],
    dataset_type: str,
    file: str,
    max_per_kind: int,
    path: Path | None,
) -> CsvResult:
    problems = Problems(file, max_per_kind)
    schema_problems = [p for p in check_schema(schema, dataset_type, "schema") if p.severity == "error"]
    if schema_problems:
        problems.add(
            "schema",
            None,
            None,
            None,
            f"cannot check the data: its schema is not usable "
            f"({'; '.join(str(p) for p in schema_problems[:3])})",
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    fields = fields_of(schema)
    checker = Checker(fields, dataset_type, problems)
    header_raw, rest = _first_line(source)
    body_start = len(header_raw)
    if not header_raw.strip():
        problems.add(
            "header", 1, None, None, f"empty file; expected a header row: {','.join(f.name for f in fields)}"
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    if header_raw.startswith(b"\xef\xbb\xbf"):
        problems.add("bom", 1, None, None, "starts with a UTF-8 byte order mark; save the file without it")
        header_raw = header_raw[3:]
    try:
        header_text = header_raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add("utf8", 1, None, None, "header is not valid UTF-8; expected a UTF-8 encoded file")
        return CsvResult(problems.finish(), 0, CsvStats())
    if '"' in header_text:
        # "Formatting your input data": the column headers must not be in quotation marks
        # (https://docs.aws.amazon.com/personalize/latest/dg/data-prep-formatting.html).
        problems.add(
            "header", 1, None, header_text.strip(),
            "column headers must not be enclosed in quotation marks (Personalize refuses the import)",
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    header = next(csv.reader(io.StringIO(header_text)), [])
    expected = [f.name for f in fields]
    if header != expected:
        missing = [n for n in expected if n not in header]
        extra = [n for n in header if n not in expected]
        detail = []
        if missing:
            detail.append(f"missing {missing}")
        if extra:
            detail.append(f"not in the schema {extra}")
        if not detail:
            detail.append("same names, different order")
        problems.add(
            "header",
            1,
            None,
            ",".join(header),
            f"header must equal the schema's field names in order: {','.join(expected)} "
            f"({'; '.join(detail)})",
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    scan = _Scan(checker)
    if path is not None and path.stat().st_size >= NUMPY_AFTER_BYTES:
        scan.use_numpy()  # known to be big: numpy from the first block
    process, middle = _start_worker(path, body_start, schema, dataset_type)
    if process is None or path is None:
        scan.run(blocks(source, rest))
    else:
        from pipeline.csvcheck import worker

        main = worker.Limited(path, body_start, middle)
        try:
            scan.run(blocks(main, b""))
        except BaseException:
            process.kill()  # interrupted or failed here: leave no process behind
            process.wait()
            raise
        finally:
            main.close()
        result = worker.worker_result(process)
        if result is None or scan.quotes:
            # The worker failed, or a quoted field may span the split: check the second part here.
            rest_part = worker.Limited(path, middle, path.stat().st_size)
            try:
                scan.run(blocks(rest_part, b""))
            finally:
                rest_part.close()
        else:
            scan.merge_worker(path, result)
    scan.finish()
    optional = (
        sum(1 for f in fields if f.name not in REQUIRED["interactions"])
        if dataset_type == "interactions"
        else 0
    )
    stats = checker.finish(optional)
    user_ids = set(checker.user_counts) if dataset_type == "interactions" else checker.user_ids
    return CsvResult(problems.finish(), stats.rows, stats, user_ids, checker.item_ids, scan.worker_peak_kb)
