"""The numpy fast path, for big files: proves a block of whole lines clean with whole-array
operations and counts its ids exactly, or says it cannot (then the exact path words the problems,
exactly as for small files).

Imported lazily by pipeline.csvcheck.check, only for a file known to be, or a stream found to be,
past `check.NUMPY_AFTER_BYTES`, so synth on small data never loads numpy; without numpy installed,
the pure-Python fast path (pipeline.csvcheck.fast) does the work.

How a block is read without a Python step per value:
- separators: one `flatnonzero` of the bytes <= ',' (a second pass for just newlines and commas when
  the block holds spaces or other low bytes); n separators per line, the last a newline and the
  others commas, prove every line has the schema's number of fields and give each field's end.
- integers: each field's last 16 bytes are read as two unaligned little-endian uint64 words (a
  stride-1 view of the buffer), bytes before the field are masked to '0', every byte is checked
  to be a digit and the words are converted with the SWAR multiply trick (8 digits per 3 steps).
- ids and event types: each value becomes an exact key, never a hash: one word [length byte, value,
  zero padding] when every value of the block is under 8 bytes, else [length word, value, zero
  padding] as wide as the block's longest; equal keys mean equal values. `np.unique` per block,
  merged into running distinct keys with their counts (per key width).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.csvcheck.core import SECONDS_BELOW, Checker, fast_values

PAD = 16
#: Bytes around a block, so reads of 8 bytes before a field or past the last one stay in the buffer
#: (their contents are always masked off). 0xff: never taken for a separator.
_PAD = b"\xff" * PAD
_ZEROS = 0x3030303030303030
_HIGH_NIBBLES = 0xF0F0F0F0F0F0F0F0
_PLUS_SIX = 0x0606060606060606
#: LOW[c]: the low c bytes of a word; HIGH[c]: the high c bytes.
LOW = np.array([(1 << (8 * c)) - 1 for c in range(9)], dtype=np.uint64)
HIGH = np.array([((1 << 64) - 1) ^ ((1 << (8 * (8 - c))) - 1) for c in range(9)], dtype=np.uint64)
#: KEY0[n]: the bytes of a one-word key of an n-byte value (n < 8) once its low byte holds n.
KEY0 = np.array([int(LOW[n + 1]) & ~0xFF for n in range(8)], dtype=np.uint64)
#: Running keys are merged with a block's once the pending ones reach this many (amortised cost).
MERGE_AT = 1 << 16


class Keys:
    """Distinct values of one column with their counts, as exact fixed-width keys: (n, words) uint64
    arrays, one set per key width."""

    def __init__(self) -> None:
        self.done: dict[int, tuple[Any, Any]] = {}
        self.pending: dict[int, list[tuple[Any, Any]]] = {}
        self.pending_size: dict[int, int] = {}

    def add(self, keys: Any) -> None:
        words = keys.shape[1]
        self.pend(words, _unique_rows(keys))
        done = self.done.get(words)
        if self.pending_size[words] >= max(MERGE_AT, len(done[0]) if done else 0):
            self._merge(words)

    def pend(self, words: int, part: tuple[Any, Any]) -> None:
        """Queue (distinct keys, counts) of `words`-wide keys for the next merge."""
        self.pending.setdefault(words, []).append(part)
        self.pending_size[words] = self.pending_size.get(words, 0) + len(part[0])

    def _merge(self, words: int) -> None:
        parts = self.pending.pop(words, [])
        self.pending_size[words] = 0
        if words in self.done:
            parts.append(self.done[words])
        if not parts:
            return
        keys = np.concatenate([k for k, _ in parts])
        counts = np.concatenate([c for _, c in parts])
        self.done[words] = _unique_rows(keys, counts)

    def merged(self) -> dict[int, tuple[Any, Any]]:
        """Every pending key merged in: (distinct keys, counts) per key width (what a worker sends)."""
        for words in list(self.pending):
            self._merge(words)
        return self.done

    def items(self) -> dict[bytes, int]:
        """Every distinct value (bytes) with its count."""
        out: dict[bytes, int] = {}
        for words, (unique, counts) in self.merged().items():
            raw = unique.tobytes()
            size = 8 * words
            for i, count in enumerate(counts.tolist()):
                key = raw[i * size : (i + 1) * size]
                if words == 1:
                    value = key[1 : 1 + (key[0] & 7)]
                else:
                    value = key[8 : 8 + int.from_bytes(key[:8], "little")]
                out[value] = out.get(value, 0) + count
        return out


class NumpyBlocks:
    """Checks blocks for one Checker with numpy; its statistics are handed to the checker at the end."""

    def __init__(self, checker: Checker):
        self.c = checker
        self.users = Keys()
        self.items = Keys()
        self.events = Keys()

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
        buf = _PAD + block + _PAD
        a = np.frombuffer(buf, dtype=np.uint8)
        # Separators: one pass finds every byte <= ',' (newline 10 and comma 44 among them); only when
        # the block has other such bytes (spaces, '+', ...) a second pass picks the two exactly.
        separators = np.flatnonzero(a <= 44)
        kinds = a[separators]
        if not ((kinds == 10) | (kinds == 44)).all():
            separators = np.flatnonzero((a == 10) | (a == 44))
            kinds = a[separators]
        n = c.n
        if len(separators) % n:
            return 0
        rows = len(separators) // n
        # Sorted separators, n per line: the n-th is a newline and the others are commas, for every
        # line, exactly when every line holds n-1 commas. Column k ends at grid[:, k].
        grid = separators.reshape(rows, n)
        kinds = kinds.reshape(rows, n)
        if not (kinds[:, -1] == 10).all() or (n > 1 and not (kinds[:, :-1] == 44).all()):
            return 0
        newlines = grid[:, -1]
        line_starts = np.empty(rows, dtype=np.int64)
        line_starts[0] = PAD
        line_starts[1:] = newlines[:-1] + 1
        words_view = np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
        ts_range: tuple[int, int] | None = None
        checks: list[tuple[int, Any, Any]] = []
        for index, spec in enumerate(c.fields):
            start = line_starts if index == 0 else grid[:, index - 1] + 1
            end = grid[:, index]
            length = end - start
            shortest = int(length.min())
            longest = int(length.max())
            if shortest == 0:
                if not spec.nullable:
                    return 0
                if spec.type != "string":
                    keep = length > 0
                    start, end, length = start[keep], end[keep], length[keep]
                    if not len(length):
                        continue
                    shortest = int(length.min())
            if spec.type == "string":
                limit = c.limits[index]
                if limit is not None and longest > limit:
                    return 0  # bytes over the limit; the exact path counts characters
            elif spec.type in ("int", "long"):
                if longest > 16:
                    return 0  # signs, 17+ digits: rare, the exact path decides
                numbers = _digits(words_view, end, length, shortest == longest)
                if numbers is None:
                    return 0
                lo, hi = int(numbers.min()), int(numbers.max())
                if spec.type == "int" and hi > 2**31 - 1:
                    return 0
                if index == c.ts_col:
                    if hi >= SECONDS_BELOW:
                        return 0
                    ts_range = (lo, hi)
            else:
                values = [buf[s:e] for s, e in zip(start.tolist(), end.tolist(), strict=True)]
                if not fast_values(spec.type, values):
                    return 0
            if index in (c.user_col, c.item_col, c.event_col):
                checks.append((index, start, length))
        # Clean: record statistics.
        c.rows += rows
        if ts_range is not None:
            c.timestamps(*ts_range)
        for index, start, length in checks:
            target = self.users if index == c.user_col else self.items if index == c.item_col else self.events
            _add_keys(target, words_view, start, length)
        return rows

    def finish(self) -> None:
        """Hand the counted ids to the checker (its Counter/sets), as if every block went its way."""
        c = self.c
        if c.type == "interactions":
            c.user_counts.update(self.users.items())
            c.item_ids.update(self.items.items())
            c.events.update(self.events.items())
            return
        counted = self.users if c.type == "users" else self.items
        target = c.user_ids if c.type == "users" else c.item_ids
        for key, count in counted.items().items():
            # As the pure-Python path counts: every repeat of an id already seen is one duplicate.
            c.duplicates += count if key in target else count - 1
            target.add(key)


def _unique_rows(keys: Any, weights: Any = None) -> tuple[Any, Any]:
    """Distinct rows of an (n, k) uint64 array and how often each occurs (or the sum of `weights`).
    Not np.unique(axis=0): that sorts opaque void records, ~10x slower than uint64. Here each column
    is ranked with a uint64 unique and the ranks are folded in one column at a time
    (rank * distinct_next + next_rank < n**2 fits in uint64 for n < 2**32): exact, no hashing."""
    if keys.shape[1] == 1 and weights is None:
        unique, counts = np.unique(keys[:, 0], return_counts=True)
        return unique.reshape(-1, 1), counts
    _, code = np.unique(keys[:, 0], return_inverse=True)
    for column in range(1, keys.shape[1]):
        values, rank = np.unique(keys[:, column], return_inverse=True)
        folded = code.astype(np.uint64) * np.uint64(len(values)) + rank.astype(np.uint64)
        _, code = np.unique(folded, return_inverse=True)
    code = code.ravel()
    distinct = int(code.max()) + 1 if len(code) else 0
    representative = np.empty(distinct, dtype=np.int64)
    representative[code] = np.arange(len(code))
    counts = np.bincount(code, weights=weights, minlength=distinct).astype(np.int64)
    return keys[representative], counts


def _digits(view: Any, end: Any, length: Any, same_width: bool) -> Any:
    """Fields of 1-16 ASCII digits ending at `end` as uint64 numbers; None if any byte is not a digit.
    `same_width`: every field is as long as the first (typical of timestamps): scalar masks."""
    numbers = None
    for offset, shift in ((8, 0), (16, 8)):
        word = view[end - offset]
        if same_width:
            keep: Any = HIGH[min(max(int(length[0]) - shift, 0), 8)]
        else:
            keep = HIGH[np.clip(length - shift, 0, 8)]
        word = (word & keep) | (np.uint64(_ZEROS) & ~keep)
        if ((word & np.uint64(_HIGH_NIBBLES)) != np.uint64(_ZEROS)).any() or (
            ((word + np.uint64(_PLUS_SIX)) & np.uint64(_HIGH_NIBBLES)) != np.uint64(_ZEROS)
        ).any():
            return None
        value = _eight_digits(word)
        numbers = value if numbers is None else value * np.uint64(100_000_000) + numbers
    return numbers


def _eight_digits(word: Any) -> Any:
    """Eight ASCII digits in a little-endian word (first digit in the low byte) to their number."""
    word = word - np.uint64(_ZEROS)
    word = word * np.uint64(10) + (word >> np.uint64(8))
    word = (
        (word & np.uint64(0x000000FF000000FF)) * np.uint64(100 + (1000000 << 32))
        + ((word >> np.uint64(16)) & np.uint64(0x000000FF000000FF)) * np.uint64(1 + (10000 << 32))
    ) >> np.uint64(32)
    return word & np.uint64(0xFFFFFFFF)


def _add_keys(target: Keys, view: Any, start: Any, length: Any) -> None:
    """Exact keys. A value under 8 bytes: one word [length byte, value, zero padding]. A longer one:
    [length word, value, zero padding] as wide as the block's longest value. A value can land in
    keys of two widths (blocks differ); Keys.items() adds them up."""
    longest = int(length.max())
    if longest >= 8 and int(length.min()) < 8:
        short = length < 8
        _add_keys(target, view, start[short], length[short])
        long = ~short
        start, length = start[long], length[long]
    if longest < 8:  # the usual case: one word per key
        target.add(((view[start - 1] & KEY0[length]) | length.astype(np.uint64)).reshape(-1, 1))
        return
    width = (longest + 7) // 8
    keys = np.empty((len(start), width + 1), dtype=np.uint64)
    keys[:, 0] = length
    last = len(view) - 1
    for w in range(width):
        # A value shorter than the longest has no bytes in its last words: masked to 0, read anywhere.
        keys[:, w + 1] = view[np.minimum(start + 8 * w, last)] & LOW[np.clip(length - 8 * w, 0, 8)]
    target.add(keys)
