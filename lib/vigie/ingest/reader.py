"""Read raw tweet dumps inside Spark tasks: plan splits, stream JSON records, keep line numbers.

Why not `spark.read.json`: it infers a schema with an extra pass, cannot read several JSON objects
run together or pretty-printed ones, and loses the line number a rejected record needs. Here each
Spark task parses its split with orjson and hands Arrow batches back through `mapInArrow`.

A *chunk* starts at a line whose first byte is `{` (or at the start of the file) and runs to the
next such line. Line-delimited JSON gives one chunk per line (the fast path, one orjson call);
pretty-printed or concatenated objects give longer chunks that a streaming decoder walks through.
Plain files are split into byte ranges; a split owns the chunks that *start* inside it, so no
record is read twice or missed, and compressed files (.gz, .bz2) are one split each.

Example:
    >>> plan = plan_splits(["tweets.jsonl"], split_bytes=64 << 20)  # doctest: +SKIP
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from vigie.errors import InputError
from vigie.paths import is_uri

READ_BLOCK = 8 << 20
RAW_PREFIX = 2000  # characters of a rejected record kept in quarantine
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class Split:
    path: str
    index: int  # position of the split within its file
    start: int
    end: int  # exclusive; -1 = to the end of the file
    compression: str  # "none" | "gzip" | "bz2"


def _compression(path: str) -> str:
    with open(path, "rb") as fh:
        magic = fh.read(3)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"BZh":
        return "bz2"
    return "none"


def list_input_files(inputs: list[str]) -> list[str]:
    """Expand files and folders (recursively) into a sorted list of readable files; fail clearly."""
    if not inputs:
        raise InputError("no input given: name one or more files or folders of tweet JSON")
    files: list[str] = []
    for raw in inputs:
        path = raw[len("file:") :] if raw.startswith("file:") else raw
        if is_uri(path):
            raise InputError(
                f"input {raw} is a remote URI: the Spark tasks read inputs as files, so give a path every "
                "executor sees (a shared mount, /dbfs/... or /Volumes/... on Databricks)"
            )
        if not os.path.exists(path):
            raise InputError(f"input not found: {raw}")
        if os.path.isdir(path):
            found = [
                os.path.join(d, f)
                for d, dirs, names in os.walk(path)
                for f in names
                if not f.startswith((".", "_"))
                and not any(p.startswith((".", "_")) for p in os.path.relpath(d, path).split(os.sep) if p != ".")
            ]
            files.extend(sorted(found))
        else:
            files.append(path)
    for f in files:
        if not os.access(f, os.R_OK):
            raise InputError(f"input is not readable (permissions): {f}")
    return sorted({os.path.abspath(f) for f in files})


def plan_splits(files: list[str], split_bytes: int = 64 << 20) -> list[Split]:
    """Byte-range splits for plain files, one split per compressed file."""
    splits = []
    for path in files:
        comp = _compression(path)
        size = os.path.getsize(path)
        if comp != "none" or size <= split_bytes:
            splits.append(Split(path, 0, 0, -1, comp))
            continue
        for i, start in enumerate(range(0, size, split_bytes)):
            end = min(start + split_bytes, size)
            splits.append(Split(path, i, start, -1 if end >= size else end, comp))
    return splits


def _open(split: Split) -> io.BufferedIOBase:
    if split.compression == "gzip":
        return gzip.open(split.path, "rb")  # type: ignore[return-value]
    if split.compression == "bz2":
        return bz2.open(split.path, "rb")  # type: ignore[return-value]
    return open(split.path, "rb")


def _first_boundary(fh: io.BufferedIOBase, start: int) -> int:
    """Offset of the first line start >= start whose first byte is `{` (a chunk start)."""
    if start == 0:
        return 0
    fh.seek(start - 1)
    pos = start - 1
    carry = b""
    while True:
        block = fh.read(READ_BLOCK)
        if not block:
            return -1
        buf = carry + block
        i = buf.find(b"\n{")
        if i >= 0:
            return pos - len(carry) + i + 1
        carry = buf[-1:]
        pos += len(block)


def iter_chunks(split: Split) -> Iterator[tuple[int, bytes]]:
    """Yield (line offset within the split's region, chunk bytes) for the split's chunks.

    The last yielded item has empty bytes and carries the region's total line count.
    """
    with _open(split) as fh:
        origin = _first_boundary(fh, split.start) if split.start else 0
        if origin < 0 or (split.end >= 0 and origin >= split.end):
            yield 0, b""
            return
        if split.start:
            fh.seek(origin)
        pos = origin  # absolute offset of `pending`'s first byte
        line_no = 0  # lines seen before `chunk`
        chunk: list[bytes] = []
        chunk_line = 0
        pending = b""
        done = False
        while not done:
            block = fh.read(READ_BLOCK)
            if not block:
                done = True
                lines = pending.split(b"\n") if pending else []
                tail = b""
            else:
                data = pending + block
                cut = data.rfind(b"\n")
                if cut < 0:
                    pending = data
                    continue
                lines = data[:cut].split(b"\n")
                tail = data[cut + 1 :]
            for line in lines:
                if line[:1] == b"{" or not chunk:
                    if split.end >= 0 and pos >= split.end and line[:1] == b"{":
                        if chunk:
                            yield chunk_line, b"\n".join(chunk)
                        yield line_no, b""
                        return
                    if chunk:
                        yield chunk_line, b"\n".join(chunk)
                    chunk, chunk_line = [line], line_no
                else:
                    chunk.append(line)
                line_no += 1
                pos += len(line) + 1
            pending = tail
        if chunk:
            yield chunk_line, b"\n".join(chunk)
        yield line_no, b""


def decode_chunk(chunk: bytes) -> Iterator[tuple[int, object | None, str | None]]:
    """Decode one chunk into (line offset within the chunk, value, error) triples.

    Fast path: the whole chunk is one JSON document. Otherwise walk it with a streaming decoder,
    and turn undecodable stretches into errors naming what is wrong.
    """
    stripped = chunk.strip()
    if not stripped:
        return
    try:
        yield 0, orjson.loads(stripped), None
        return
    except orjson.JSONDecodeError:
        pass
    try:
        text = chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield 0, None, f"not valid UTF-8 (byte {exc.start})"
        return
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t\r\n\ufeff":
            i += 1
        if i >= n:
            break
        try:
            value, j = _DECODER.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            line = text.count("\n", 0, i)
            yield line, None, f"not valid JSON: {exc.msg} (line {exc.lineno - line}, column {exc.colno})"
            i = _next_record_start(text, i)
            continue
        yield text.count("\n", 0, i), value, None
        i = j


def _next_record_start(text: str, i: int) -> int:
    """After a bad record at `i`: the start of the next line that begins a new record.

    Indented lines and lines starting with a closing bracket, comma or quote continue the bad record
    (the rest of a broken pretty-printed object); any other non-blank line starts a new one, so each
    bad line of a line-delimited dump is its own reject.
    """
    pos = text.find("\n", i)
    while pos >= 0:
        start = pos + 1
        if start >= len(text):
            return len(text)
        first = text[start]
        if first not in ' \t\r\n}],"':
            return start
        pos = text.find("\n", start)
    return len(text)


def raw_prefix(chunk: bytes, line_offset: int = 0) -> str:
    """The start of a rejected record, as text, for quarantine."""
    if line_offset:
        parts = chunk.split(b"\n", line_offset)
        chunk = parts[-1] if len(parts) > line_offset else b""
    return chunk[: RAW_PREFIX * 4].decode("utf-8", errors="replace")[:RAW_PREFIX]
