"""AI Hub Korean-English parallel corpora -> pairs.jsonl (`kodeio data aihub`).

AI Hub ships many `.xlsx` files whose header row holds `원문` (Korean) and `번역문`
(English) among other columns (ID, 대분류, 소분류, 상황, Set Nr., 발화자, ...) in varying
order and under varying sheet names. Workbooks are streamed with openpyxl's read-only mode
(one row in memory at a time), so memory stays flat on files of hundreds of thousands of
rows. CSV/TSV and JSONL files with the same columns are read too.

Each kept row becomes `{"ko", "en", "source": "<file>:<sheet>:<row>"}` (CSV/JSONL:
`"<file>:<line>"`). Cell text is trimmed and NFC-normalized; blank rows and rows with one
side empty are dropped and counted. Any bad input (missing column, unreadable or corrupt
file, wrong sheet, mis-encoded CSV) raises InputError before the output appears: rows go
to a temp file that is renamed over the output only when every file was read.

`--shard K/N` reads every N-th file from the K-th (a workbook is read whole, so files are the
unit); `kodeio merge` puts the files' pairs and counts back in file order.
"""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from kodeio.data.text import clean_cell, header_key
from kodeio.data.xlsx import stream_rows
from kodeio.errors import ConfigError, InputError
from kodeio.scale.shards import ShardOptions

if TYPE_CHECKING:
    from kodeio.scale.merge import MergeResult, ShardLedger

XLSX_SUFFIXES = (".xlsx", ".xlsm")
CSV_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl",)
SUPPORTED_SUFFIXES = XLSX_SUFFIXES + CSV_SUFFIXES + JSONL_SUFFIXES
# The header is normally row 1; a title row or two above it is tolerated.
HEADER_SEARCH_ROWS = 10


class AihubConfig(ShardOptions):
    """`kodeio data aihub`: parallel corpus files -> pairs.jsonl."""

    inputs: list[Path] = Field(
        ..., min_length=1, description="xlsx/csv/tsv/jsonl files or directories of them"
    )
    output: Path = Field(..., description="pairs JSONL to write")
    ko_column: str = Field("원문", description="header of the Korean column")
    en_column: str = Field("번역문", description="header of the English column")
    sheet: str | None = Field(
        None, description="sheet to read in every workbook; default: every sheet with both columns"
    )
    encoding: str = Field(
        "utf-8-sig", description="encoding of CSV/TSV files (Korean Windows exports: cp949)"
    )
    recursive: bool = Field(False, description="also read files in sub-directories")

    @field_validator("ko_column", "en_column")
    @classmethod
    def _normalize_header(cls, value: str) -> str:
        key = header_key(value)
        if not key:
            raise ValueError("column header must not be empty")
        return key


@dataclass
class FileStats:
    file: str
    index: int = 0  # among every file discovered (what --shard counts)
    rows: int = 0
    kept: int = 0
    blank: int = 0
    ko_only: int = 0
    en_only: int = 0
    sheets: list[str] = field(default_factory=list)

    @property
    def one_sided(self) -> int:
        return self.ko_only + self.en_only


@dataclass
class PairsStats:
    files: list[FileStats] = field(default_factory=list)
    discovered: int = 0  # files found, in every shard

    def total(self, name: str) -> int:
        return sum(getattr(f, name) for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        keys = ("rows", "kept", "blank", "ko_only", "en_only")
        return {
            **{k: self.total(k) for k in keys},
            "files": [
                {"file": f.file, "sheets": f.sheets, **{k: getattr(f, k) for k in keys}}
                for f in self.files
            ],
        }


def discover_files(inputs: list[Path], recursive: bool = False) -> list[tuple[Path, str]]:
    """(path, display name) for every supported file, directories expanded in sorted order.

    The display name (used in `source`) is the path relative to the directory given, or the
    file name for a file given directly.
    """
    found: list[tuple[Path, str]] = []
    for item in inputs:
        if item.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(
                p
                for p in item.glob(pattern)
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not p.name.startswith(("~$", "."))  # Excel lock files, hidden files
            )
            if not files:
                raise InputError(
                    f"{item}: no {'/'.join(s.lstrip('.') for s in SUPPORTED_SUFFIXES)} files found"
                )
            found.extend((p, p.relative_to(item).as_posix()) for p in files)
        elif item.is_file():
            if item.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise InputError(
                    f"{item}: unsupported file type '{item.suffix}'; expected "
                    + ", ".join(SUPPORTED_SUFFIXES)
                )
            found.append((item, item.name))
        else:
            raise InputError(f"{item}: no such file or directory")
    return found


def _pair_row(ko_raw: Any, en_raw: Any, source: str, stats: FileStats) -> dict[str, str] | None:
    stats.rows += 1
    ko, en = clean_cell(ko_raw), clean_cell(en_raw)
    if not ko and not en:
        stats.blank += 1
        return None
    if not en:
        stats.ko_only += 1
        return None
    if not ko:
        stats.en_only += 1
        return None
    stats.kept += 1
    return {"ko": ko, "en": en, "source": source}


def _find_header(
    rows: Iterator[tuple[int, tuple[Any, ...]]], ko: str, en: str
) -> tuple[int, int, list[str]]:
    """Scan the first rows for one holding both headers: (ko index, en index, headers).

    Returns indices -1 when no such row is found; `headers` is then the first non-empty row
    seen, for the error message.
    """
    first: list[str] = []
    for seen, (_, row) in enumerate(rows, 1):
        headers = [header_key(v) for v in row]
        if ko in headers and en in headers:
            return headers.index(ko), headers.index(en), headers
        if any(headers) and not first:
            first = headers
        if seen >= HEADER_SEARCH_ROWS:
            break
    return -1, -1, first


def _describe_headers(headers: list[str]) -> str:
    shown = [h for h in headers if h][:12]
    return ", ".join(shown) if shown else "no header cells"


def iter_xlsx_pairs(
    path: Path, name: str, config: AihubConfig, stats: FileStats
) -> Iterator[dict[str, str]]:
    """Stream the pairs of one workbook (read-only mode: constant memory)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc}); "
            "expected an Excel file as AI Hub ships it"
        ) from None
    except Exception as exc:  # openpyxl raises assorted errors on damaged XML
        raise InputError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}); "
            "expected an Excel file as AI Hub ships it"
        ) from None
    try:
        names = workbook.sheetnames
        if config.sheet is not None:
            if config.sheet not in names:
                raise InputError(
                    f"{path}: no sheet '{config.sheet}' (sheets: {', '.join(names)}); "
                    "set sheet to one of them, or leave it unset to read every sheet"
                )
            names = [config.sheet]
        used = 0
        seen_headers: dict[str, str] = {}
        for sheet_name in names:
            try:
                rows = stream_rows(workbook[sheet_name])
                ko_idx, en_idx, headers = _find_header(rows, config.ko_column, config.en_column)
                if ko_idx < 0:
                    seen_headers[sheet_name] = _describe_headers(headers)
                    if config.sheet is not None:
                        break
                    continue
                used += 1
                stats.sheets.append(sheet_name)
                width = max(ko_idx, en_idx) + 1
                for number, row in rows:
                    if len(row) < width:
                        row = row + (None,) * (width - len(row))
                    source = f"{name}:{sheet_name}:{number}"
                    pair = _pair_row(row[ko_idx], row[en_idx], source, stats)
                    if pair is not None:
                        yield pair
            except InputError:
                raise
            except Exception as exc:  # damaged sheet XML surfaces while iterating
                raise InputError(
                    f"{path}: sheet '{sheet_name}' is unreadable ({type(exc).__name__}: {exc})"
                ) from None
        if used == 0:
            where = "; ".join(f"sheet '{s}' has: {h}" for s, h in seen_headers.items())
            raise InputError(
                f"{path}: missing column(s) '{config.ko_column}' and/or '{config.en_column}' "
                f"in the first {HEADER_SEARCH_ROWS} rows ({where or 'no sheets'}); "
                "expected a header row with both (set ko_column/en_column for other names)"
            )
    finally:
        workbook.close()


def _csv_dialect(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def iter_csv_pairs(
    path: Path, name: str, config: AihubConfig, stats: FileStats
) -> Iterator[dict[str, str]]:
    try:
        with path.open("r", encoding=config.encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=_csv_dialect(path))
            try:
                header_row = next(reader)
            except StopIteration:
                raise InputError(f"{path}: empty file; expected a header row") from None
            headers = [header_key(h) for h in header_row]
            missing = [c for c in (config.ko_column, config.en_column) if c not in headers]
            if missing:
                raise InputError(
                    f"{path}: missing column(s) {', '.join(repr(m) for m in missing)} in the "
                    f"header row (has: {_describe_headers(headers)})"
                )
            ko_idx, en_idx = headers.index(config.ko_column), headers.index(config.en_column)
            width = max(ko_idx, en_idx) + 1
            for row in reader:
                line = reader.line_num
                if len(row) < width:
                    row = row + [""] * (width - len(row))
                pair = _pair_row(row[ko_idx], row[en_idx], f"{name}:{line}", stats)
                if pair is not None:
                    yield pair
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not valid {config.encoding} text (byte offset {exc.start}); set "
            "encoding to the file's encoding (Korean Windows exports are usually cp949)"
        ) from None
    except csv.Error as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    except LookupError:
        raise ConfigError(f"encoding: unknown encoding '{config.encoding}'") from None


def iter_jsonl_pairs(
    path: Path, name: str, config: AihubConfig, stats: FileStats
) -> Iterator[dict[str, str]]:
    """JSONL rows keyed by the same headers (or `ko`/`en`, so pairs.jsonl reads back)."""
    from kodeio.files import iter_jsonl

    for lineno, obj in iter_jsonl(path):
        keys = {header_key(k): k for k in obj}
        ko_key = keys.get(config.ko_column, "ko" if "ko" in obj else None)
        en_key = keys.get(config.en_column, "en" if "en" in obj else None)
        if ko_key is None or en_key is None:
            raise InputError(
                f"{path}:{lineno}: missing key '{config.ko_column if ko_key is None else config.en_column}'"
                f" (has: {', '.join(obj)}); expected '{config.ko_column}'/'{config.en_column}' or 'ko'/'en'"
            )
        pair = _pair_row(obj[ko_key], obj[en_key], f"{name}:{lineno}", stats)
        if pair is not None:
            yield pair


def iter_file_pairs(
    path: Path, name: str, config: AihubConfig, stats: FileStats
) -> Iterator[dict[str, str]]:
    suffix = path.suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return iter_xlsx_pairs(path, name, config, stats)
    if suffix in CSV_SUFFIXES:
        return iter_csv_pairs(path, name, config, stats)
    return iter_jsonl_pairs(path, name, config, stats)


def iter_pairs(config: AihubConfig, stats: PairsStats) -> Iterator[dict[str, str]]:
    """Every kept pair of every input file, in file then row order."""
    files = discover_files(config.inputs, config.recursive)
    stats.discovered = len(files)
    k, n = config.shard_index
    files = [(i, path, name) for i, (path, name) in enumerate(files) if i % n == k]
    from kodeio.progress import progress_bar

    with progress_bar("reading pairs", total=len(files)) as bar:
        for index, path, name in files:
            file_stats = FileStats(file=name, index=index)
            stats.files.append(file_stats)
            bar.update(0, info=name)
            for n, pair in enumerate(iter_file_pairs(path, name, config, file_stats)):
                if n % 5000 == 0:
                    bar.update(0, info=f"{name} ({file_stats.rows} rows)")
                yield pair
            bar.advance(0)


def stats_path(output: Path) -> Path:
    return output.with_name(output.name + ".stats.json")


def _write_stats(output: Path, stats: PairsStats, written: int) -> None:
    from kodeio.files import atomic_write_text

    summary = stats.as_dict()
    summary["written"] = written
    atomic_write_text(stats_path(output), json.dumps(summary, ensure_ascii=False, indent=2))


def run_stage(config: AihubConfig) -> Path:
    """Write pairs.jsonl (atomically) and `<output>.stats.json` with the per-file counts."""
    from kodeio.files import atomic_path, dumps

    stats = PairsStats()
    written = 0
    with atomic_path(config.output) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in iter_pairs(config, stats):
            fh.write(dumps(row) + "\n")
            written += 1
        fh.flush()
        _write_stats(config.output, stats, written)
        if config.shard:
            from kodeio.scale.shards import write_sidecar

            write_sidecar(config.output, "aihub", config, config.shard, written,
                          units=len(stats.files), files=stats.discovered,
                          stats=[asdict(f) for f in stats.files])  # fmt: skip
    return config.output


def merge_shards(shards: Sequence[ShardLedger], output: Path) -> MergeResult:
    """Shards of `data aihub`: each file's pairs from the shard that read it, in file order,
    and the stats file the single run writes."""
    from kodeio.scale.merge import MergeResult, check_units, interleave

    files: dict[int, FileStats] = {}
    for s in shards:
        try:
            if s.meta["files"] != shards[0].meta["files"]:
                raise InputError(
                    f"{s.output}: {s.meta['files']} input files, {shards[0].output} "
                    f"{shards[0].meta['files']}; were they run on the same inputs?"
                )
            mine = [FileStats(**f) for f in s.meta["stats"]]
        except (KeyError, TypeError) as exc:
            raise InputError(f"{s.ledger}: not an aihub shard sidecar ({exc})") from None
        if sum(f.kept for f in mine) != s.seeds:
            raise InputError(f"{s.output}: {s.seeds} rows, its files' counts say otherwise")
        files.update((f.index, f) for f in mine)
    total = int(shards[0].meta["files"])
    check_units(shards, total)
    if sorted(files) != list(range(total)):
        raise InputError(f"the shards' files are not files 1..{total} once each")
    ordered = [files[i] for i in range(total)]
    written = interleave(shards, output, [f.kept for f in ordered])
    _write_stats(output, PairsStats(ordered, total), written)
    return MergeResult(output, None, len(shards), total, written, 0)
