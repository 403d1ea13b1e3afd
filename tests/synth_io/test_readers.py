"""Seed readers: format detection, each format's fields, `.py` discovery, HF datasets, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kodeio.errors import InputError
from kodeio.synth.io.discover import seeds_from_source, slice_code
from kodeio.synth.io.seeds import RawCode, Seed, detect_file_format, read_hf_seeds, read_seeds


def seeds_of(*paths: Path, fmt: str = "auto") -> list[Seed]:
    return [s for s in read_seeds(list(paths), fmt) if isinstance(s, Seed)]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_formats_are_detected_per_file(io_fixtures) -> None:
    assert detect_file_format(io_fixtures / "codeio.jsonl") == "codeio"
    assert detect_file_format(io_fixtures / "cruxeval.jsonl") == "cruxeval"
    assert detect_file_format(io_fixtures / "kodeio_seeds.jsonl") == "kodeio"
    assert detect_file_format(io_fixtures / "pycorpus") == "py"
    assert detect_file_format(io_fixtures / "pycorpus" / "shapes.py") == "py"


def test_codeio_rows_become_json_seeds_with_kwargs_inputs_and_descriptions(io_fixtures) -> None:
    first = seeds_of(io_fixtures / "codeio.jsonl")[0]
    assert first.id == "codeio#1"  # no id in the row: <file stem>#<line>
    assert first.entry == "main_solution"
    assert first.format == "json"
    assert first.inputs[0] == {"args": [], "kwargs": {"a": 1, "b": 2}}
    assert first.reference_outputs[0] == ("json", 3)
    assert first.problem_description == "Add two integers."
    assert first.io_requirements == "a, b: int. Returns int."
    assert first.category == "math"


def test_cruxeval_rows_keep_call_source_and_python_policy(io_fixtures) -> None:
    seeds = seeds_of(io_fixtures / "cruxeval.jsonl")
    assert [s.id for s in seeds][:3] == ["sample_0", "sample_1", "sample_2"]
    assert seeds[2].inputs == ("*[5, 3]",)
    assert seeds[0].format == "python" and seeds[0].entry == "f"
    assert seeds[1].reference_outputs == (("repr", "(3, 2, 1)"),)


def test_kodeio_rows_and_seed_problems(io_fixtures) -> None:
    by_id = {s.id: s for s in seeds_of(io_fixtures / "kodeio_seeds.jsonl")}
    assert by_id["given"].inputs == (
        {"args": [7], "kwargs": {"y": 2}},
        {"args": ["a"], "kwargs": {}},
    )
    assert by_id["given"].problem_description == "Repeat."
    assert by_id["gen_ok"].category == "gen"
    assert "def input_generator" in (by_id["gen_ok"].input_generator or "")
    assert by_id["missing_entry"].problem == "no_entry"
    assert by_id["bad_syntax"].problem == "syntax_error"


def test_format_flag_overrides_detection(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [{"code": "def f(x):\n    return x", "input": "1", "output": "1", "entry": "f"}],
    )
    assert detect_file_format(path) == "kodeio"  # code + entry looks like kodeio
    assert seeds_of(path, fmt="cruxeval")[0].inputs == ("1",)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"hello": 1}], "cannot tell the seed format"),
        (
            [{"refcode": "def main_solution(): return 1", "ios": {"input": 1}}],
            "'ios' must be a list",
        ),
        ([{"refcode": "x = 1", "ios": [{"input": [1, 2]}]}], "'ios[0].input' must be an object"),
        (
            [
                {"id": "a", "code": "def f(x): return 1", "entry": "f"},
                {"id": "b", "code": "def f(): return 1"},
            ],
            "missing key 'entry'",
        ),
        (
            [{"id": "a", "code": "def f(x): return 1", "entry": "f", "inputs": [{"args": 1}]}],
            "'args' must be a list",
        ),
        ([{"id": "a", "code": 5, "entry": "f"}], "'code' must be a string"),
    ],
)
def test_bad_rows_name_file_line_and_key(tmp_path: Path, rows: list[dict], message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(InputError) as err:
        seeds_of(path)
    assert message in str(err.value)
    assert f"{path}:{len(rows)}:" in str(err.value)  # the bad row is the last one


def test_invalid_json_line_and_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(
        '{"id": "a", "code": "def f(x): return x", "entry": "f"}\n{not json\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"broken.jsonl:2: not valid JSON"):
        seeds_of(path)
    with pytest.raises(InputError, match="not found"):
        seeds_of(tmp_path / "nope.jsonl")


def test_python_discovery_finds_pure_functions_and_flags_io(tmp_path: Path, io_fixtures) -> None:
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(io_fixtures / "pycorpus", corpus)
    # Python 2 code is common in corpora: a seed-level reject, not a crash (kept out of the
    # fixtures so that `ruff` can lint the tree).
    (corpus / "pkg" / "broken.py").write_text('def oops(x):\n    print "python 2"\n    return x\n')
    (corpus / ".venv").mkdir()
    (corpus / ".venv" / "skipped.py").write_text("def hidden(x):\n    return x\n")
    seeds = seeds_of(corpus)
    ids = [s.id for s in seeds]
    # A sorted walk, a folder's own files before its subfolders; .venv is skipped.
    assert ids == [
        "shapes#_helper",
        "shapes#scaled_sum",
        "shapes#hypotenuse",
        "shapes#initials",
        "shapes#read_config",
        "shapes#list_dir",
        "broken#2",
        "counting#top_letter",
        "counting#fib",
        "counting#unhashable_order",
    ]  # shout (print-only) and no_params are not candidates
    by_id = {s.id: s for s in seeds}
    assert by_id["broken#2"].problem == "syntax_error"
    assert by_id["shapes#read_config"].problem == "does_io"
    assert by_id["shapes#list_dir"].problem_detail == "uses os.listdir"
    assert all(s.format == "python" for s in seeds)


def test_slices_carry_helpers_constants_and_imports_but_not_main(io_fixtures) -> None:
    source = (io_fixtures / "pycorpus" / "shapes.py").read_text()
    scaled = next(
        s for s in seeds_from_source(source, "shapes", "shapes.py") if s.entry == "scaled_sum"
    )
    assert "SCALE = 3" in scaled.code and "def _helper" in scaled.code
    assert "import math" not in scaled.code and "__main__" not in scaled.code
    import ast

    hyp = slice_code(source, ast.parse(source), "hypotenuse")
    assert hyp.startswith("import math\n") and "def _helper" not in hyp


def test_raw_python_mode_yields_one_rawcode_per_file(io_fixtures) -> None:
    raws = list(read_seeds([io_fixtures / "pycorpus"], raw_python=True))
    assert all(isinstance(r, RawCode) for r in raws)
    assert [r.id for r in raws] == ["shapes", "counting"]
    assert raws[1].functions == ("top_letter", "fib", "unhashable_order")


def test_hf_datasets_from_disk_and_data_files(tmp_path: Path) -> None:
    import datasets

    raw = datasets.Dataset.from_list(
        [
            {"content": "def add(a: int, b: int) -> int:\n    return a + b\n"},
            {"content": "def bad(:\n"},
        ]
    )
    raw.save_to_disk(str(tmp_path / "raw"))
    seeds = list(read_hf_seeds(str(tmp_path / "raw"), "train", "content"))
    assert [(s.id, s.entry, s.problem) for s in seeds] == [
        ("raw#1#add", "add", None),
        ("raw#2#1", "", "syntax_error"),
    ]

    crux = datasets.DatasetDict(
        {
            "test": datasets.Dataset.from_list(
                [{"code": "def f(x):\n    return x", "input": "1", "output": "1", "id": "c0"}]
            )
        }
    )
    crux.save_to_disk(str(tmp_path / "crux"))
    [seed] = list(read_hf_seeds(str(tmp_path / "crux"), "test", "code"))
    assert seed.id == "c0" and seed.origin == "cruxeval"
    with pytest.raises(InputError, match="no split 'train'"):
        list(read_hf_seeds(str(tmp_path / "crux"), "train", "code"))

    files = tmp_path / "files"
    files.mkdir()
    write_jsonl(
        files / "train.jsonl",
        [
            {
                "refcode": "def main_solution(x):\n    return x",
                "ios": [{"input": {"x": 1}, "output": 1}],
            }
        ],
    )
    [seed] = list(read_hf_seeds(str(files), "train", "code"))
    assert seed.origin == "codeio" and seed.id == "files#1"


def test_hf_dataset_missing_or_wrong_field(tmp_path: Path) -> None:
    import datasets

    with pytest.raises(InputError, match="cannot load it offline"):
        list(read_hf_seeds(str(tmp_path / "absent"), "train", "code"))
    datasets.Dataset.from_list([{"text": "hello"}]).save_to_disk(str(tmp_path / "ds"))
    with pytest.raises(InputError, match="no string field 'code'"):
        list(read_hf_seeds(str(tmp_path / "ds"), "train", "code"))
