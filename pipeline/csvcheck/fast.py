"""The pure-Python fast path: proves a block of whole lines clean with whole-block and whole-column
operations that run in C (bytes.translate, split, join, set/Counter updates), without a Python-level
step per value. A block it cannot prove clean goes to the exact path, which words the problems."""

from __future__ import annotations

from pipeline.csvcheck.core import INT_RANGE, MAX_ID_CHARS, SECONDS_BELOW, Checker, fast_values
from pipeline.schema import Field

# translate tables: keep only separators; map digits to '0'.
_KEEP_SEPARATORS = bytes(b for b in range(256) if b not in b",\n")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


class PythonBlocks:
    """Checks blocks for one Checker, recording a clean block's statistics into it at once."""

    def __init__(self, checker: Checker):
        self.c = checker
        #: What a line is once everything but separators is taken out.
        self.shape = b"," * (checker.n - 1) + b"\n"

    def fast(self, block: bytes) -> int:
        """Prove a block of whole lines clean (its line count, statistics recorded) or leave it to the
        exact path (0)."""
        c = self.c
        if b'"' in block or b"\r" in block:
            return 0
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return 0
        rows = block.count(b"\n")
        if block.translate(None, _KEEP_SEPARATORS) != self.shape * rows:
            return 0
        # Lengths: no line longer than the smallest limit means no field over any limit.
        long_lines = c.limited_cols and max(map(len, block.split(b"\n"))) > MAX_ID_CHARS
        values = block.replace(b"\n", b",").split(b",")
        del values[-1]
        columns = [values[k :: c.n] for k in range(c.n)]
        ts_range: tuple[int, int] | None = None
        # Empty values: `,,` anywhere, a line starting with `,` or ending with `,`. Without the first
        # two only the last column can hold empties, so only it is scanned.
        inner_empty = b",," in block or b"\n," in block or block.startswith(b",")
        last_empty = inner_empty or b",\n" in block
        last = c.n - 1
        for index, (spec, column) in enumerate(zip(c.fields, columns, strict=True)):
            if (inner_empty or (index == last and last_empty)) and b"" in column:
                if not spec.nullable:
                    return 0
                if spec.type != "string":
                    column = [v for v in column if v]
                    if not column:
                        continue
            if spec.type == "string":
                limit = c.limits[index]
                if limit is not None and long_lines and max(map(len, column)) > limit:
                    return 0  # bytes > limit; the exact path counts characters
            elif spec.type in ("int", "long"):
                found = _integers(column, spec, index == c.ts_col)
                if found is False:
                    return 0
                if index == c.ts_col and isinstance(found, tuple):
                    ts_range = found
            elif not fast_values(spec.type, column):
                return 0
        # Clean: record statistics.
        c.rows += rows
        if ts_range is not None:
            c.timestamps(*ts_range)
        c.ids(
            columns[c.user_col] if c.user_col is not None else None,
            columns[c.item_col] if c.item_col is not None else None,
            columns[c.event_col] if c.event_col is not None else None,
        )
        return rows

    def finish(self) -> None:
        """Nothing held back: every clean block's statistics are already the checker's."""


def _integers(column: list[bytes], spec: Field, is_timestamp: bool) -> bool | tuple[int, int]:
    """An int or long column all valid: True, or (lowest, highest) for the timestamp column; False
    when the exact path must decide."""
    width = len(column[0])
    joined = b",".join(column)
    if width <= 11 and joined.translate(_DIGITS_TO_ZERO) == ((b"0" * width + b",") * len(column))[:-1]:
        # All non-negative, all the same width: bytes order is numeric order.
        if spec.type == "int" and width > 9:
            return False
        if is_timestamp:
            return int(min(column)), int(max(column))
        return True
    if joined.translate(None, b"0123456789,"):
        return False  # signs or junk: the exact path words it
    numbers = list(map(int, column))
    lo, hi = min(numbers), max(numbers)
    low, high = INT_RANGE[spec.type]
    if hi > high or lo < low:
        return False
    if is_timestamp:
        if hi >= SECONDS_BELOW:
            return False
        return lo, hi
    return True
