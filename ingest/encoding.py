"""Detect a CSV export's text encoding from its bytes, and transcode it to UTF-8 in chunks.

Accepted: UTF-8, UTF-8 with BOM, GB18030 (a superset of GBK and GB2312).
Detection never looks at the file name. The rule, in order:

1. a UTF-8 BOM -> ``utf-8-sig``; a UTF-16/32 BOM or NUL bytes -> not accepted;
2. the whole file decodes as strict UTF-8 -> ``utf-8``;
3. otherwise GB18030, confirmed while transcoding to UTF-8 (strict: one
   undecodable byte sequence -> not accepted; charset-normalizer names the
   likely encoding for the message).

GB18030 decodes some byte soup without error (e.g. Big5 text), so the caller
also confirms the decoded header against the mapping and rejects the file with
reason ``encoding`` when the header is unreadable.
"""

from __future__ import annotations

import codecs
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 22  # 4 MiB: memory stays constant whatever the file size
BOMS_REFUSED = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


class EncodingError(Exception):
    """The file is not in an accepted encoding."""

    offset: int | None = None  # the first undecodable byte, when known


@dataclass(frozen=True)
class Detected:
    encoding: str | None  # utf-8 | utf-8-sig | gb18030 (to be confirmed by transcode); None = refused
    sha256: str
    size: int
    error: str | None = None  # why the encoding is refused
    mixed_newlines: bool = False  # lines end in more than one way (CRLF, LF, CR): read a normalised copy
    utf8_bad_at: int | None = None  # byte offset of the first sequence that is not UTF-8 (None: all UTF-8)


def _guess(path: Path) -> str:
    try:
        from charset_normalizer import from_bytes

        with open(path, "rb") as fh:
            best = from_bytes(fh.read(1 << 16)).best()
        return best.encoding if best is not None else "unknown"
    except Exception:  # a guess for a message only
        return "unknown"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def detect(path: Path) -> Detected:
    """The encoding of a CSV file and its sha256, in one streaming pass (never raises for bad bytes)."""
    h = hashlib.sha256()
    size = 0
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    utf8_ok = True
    head = b""
    nul = False
    bad_at: int | None = None
    crlf = lf = cr = 0  # line endings, counted on bytes (UTF-8 and GB18030 never use 0x0A/0x0D otherwise)
    last = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if not head:
                head = chunk[:4]
            h.update(chunk)
            nul = nul or b"\x00" in chunk
            n_cr = chunk.count(b"\r")
            crlf += (chunk.count(b"\r\n") if n_cr else 0) + (last == b"\r" and chunk[:1] == b"\n")
            lf += chunk.count(b"\n")
            cr += n_cr
            last = chunk[-1:]
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError as e:
                    utf8_ok, bad_at = False, max(size + e.start, 0)
            size += len(chunk)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok, bad_at = False, max(size - 3, 0)
    digest = h.hexdigest()
    mixed = sum(1 for n in (crlf, lf - crlf, cr - crlf) if n) > 1

    def refused(msg: str, at: int | None = None) -> Detected:  # at: where the bad bytes are, when that helps
        return Detected(None, digest, size, msg, mixed, at)

    for bom, name in BOMS_REFUSED.items():
        if head.startswith(bom):
            return refused(
                f"the file is {name} (byte-order mark {bom.hex()}); export it as UTF-8 or GBK / 请以UTF-8或GBK编码导出"
            )
    if nul:
        return refused(
            "the file contains NUL bytes (UTF-16 or binary?); export it as UTF-8 or GBK "
            "/ 文件含空字节，请以UTF-8或GBK编码导出"
        )
    if head.startswith(codecs.BOM_UTF8):
        if not utf8_ok:
            return refused(
                "the file starts with a UTF-8 byte-order mark but is not valid UTF-8; export it "
                "again as UTF-8 / 文件含无效的UTF-8字节，请重新导出",
                bad_at,
            )
        return Detected("utf-8-sig", digest, size, None, mixed)
    if utf8_ok:
        return Detected("utf-8", digest, size, None, mixed)
    return Detected("gb18030", digest, size, None, mixed, bad_at)


def transcode(
    src: Path, encoding: str, dst: Path, progress: Callable[[int], None] | None = None, newlines: bool = False
) -> None:
    """Copy `src` to `dst` as UTF-8 without BOM, chunk by chunk (constant memory).

    newlines=True also ends every line in LF (CRLF and a lone CR become LF), for a file whose
    lines end in more than one way: DuckDB's reader expects one line ending per file and
    otherwise joins or drops lines.
    Uses the system's iconv when there is one and no line endings need changing (about twice as
    fast, and in its own process), else Python's codec. Raises EncodingError at the first byte
    sequence `encoding` cannot decode (its `offset` is that byte's position in the file)."""
    iconv = shutil.which("iconv")
    if iconv and encoding == "gb18030" and not newlines:
        res = subprocess.run(
            [iconv, "-f", "GB18030", "-t", "UTF-8", "-o", str(dst), str(src)], capture_output=True, text=True
        )
        if res.returncode == 0:
            if progress:
                progress(src.stat().st_size)
            return
        if (
            "illegal input" not in res.stderr
            and "incomplete character" not in res.stderr
            and "cannot convert" not in res.stderr
        ):
            raise OSError(f"iconv failed: {res.stderr.strip()}")
        dst.unlink(missing_ok=True)
        # fall through: Python's codec names the exact position for the message
    dec = codecs.getincrementaldecoder(encoding)("strict")
    done = 0
    pending = ""  # a CR at the end of a chunk: its LF may start the next one

    def out(text: str) -> bytes:
        nonlocal pending
        if newlines:
            text = pending + text
            pending = "\r" if text.endswith("\r") else ""
            text = (text[:-1] if pending else text).replace("\r\n", "\n").replace("\r", "\n")
        return text.encode("utf-8")

    try:
        with open(src, "rb") as fin, open(dst, "wb") as fout:
            while chunk := fin.read(CHUNK):
                fout.write(out(dec.decode(chunk)))
                done += len(chunk)
                if progress:
                    progress(len(chunk))
            fout.write(out(dec.decode(b"", final=True)) + (b"\n" if pending else b""))
    except UnicodeDecodeError as e:
        err = EncodingError(
            f"the bytes are neither UTF-8 nor GBK/GB18030 (undecodable at byte {done + e.start}; looks like "
            f"{_guess(src)}); export it as UTF-8 or GBK / 文件编码无法识别，请以UTF-8或GBK编码导出"
        )
        err.offset = max(done + e.start, 0)
        raise err from None


def read_head(path: Path, encoding: str, max_lines: int = 12, max_chars: int | None = None) -> list[str]:
    """The first lines of a text file, decoded (for header detection). A line longer than `max_chars`
    is read in pieces and given as "" (it holds no header; memory stays bounded by `max_chars`)."""
    lines: list[str] = []
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        while len(lines) < max_lines:
            line = fh.readline(max_chars) if max_chars else fh.readline()
            if not line:
                break
            if max_chars and len(line) >= max_chars and not line.endswith(("\n", "\r")):
                while (rest := fh.readline(max_chars)) and not rest.endswith(("\n", "\r")):
                    pass
                line = ""
            lines.append(line.rstrip("\r\n"))
    return lines
