"""Known answers from one run over every fixture corpus (real sandbox, two hash seeds)."""

from __future__ import annotations

from kodeio.synth.io.seeds import Seed, read_seeds

ROW_KEYS = [
    "id", "seed_id", "code", "entry", "input", "input_repr", "output", "output_repr", "status",
    "policy", "problem_description", "io_requirements", "category", "input_source",
    "reference_match", "origin", "source",
]  # fmt: skip


def reasons(run, seed_id: str) -> list[str]:
    return [r["reason"] for r in run.rejects_of(seed_id)]


def test_row_schema_and_unique_ids(corpus_run) -> None:
    assert corpus_run.rows, "the corpus must keep some pairs"
    for row in corpus_run.rows:
        assert list(row) == ROW_KEYS
        assert row["status"] == "ok"
    ids = [r["id"] for r in corpus_run.rows] + [r["id"] for r in corpus_run.rejects]
    assert len(ids) == len(set(ids))


def test_every_seed_ends_in_rows_or_rejects(corpus_run, io_corpus) -> None:
    seeds = [s for s in read_seeds(io_corpus) if isinstance(s, Seed)]
    accounted = {r["seed_id"] for r in corpus_run.rows} | {r["seed_id"] for r in corpus_run.rejects}
    assert {s.id for s in seeds} == accounted
    assert corpus_run.stats.seeds_read == len(seeds)
    # Given inputs: every distinct one is a row or a reject, never dropped.
    for seed in seeds:
        if seed.inputs and not seed.problem:
            distinct = {repr(i) for i in seed.inputs}
            pairs = corpus_run.rows_of(seed.id) + [
                r for r in corpus_run.rejects_of(seed.id) if r["stage"] != "seed"
            ]
            assert len(pairs) == len(distinct), seed.id


def test_given_inputs_outputs_and_descriptions(corpus_run) -> None:
    rows = corpus_run.rows_of("codeio#1")
    assert [(r["input"], r["output"]) for r in rows] == [
        ({"args": [], "kwargs": {"a": 1, "b": 2}}, 3),
        ({"args": [], "kwargs": {"a": 10, "b": -4}}, 6),
    ]  # the repeated third input is the same pair
    assert rows[0]["input_repr"] == "a=1, b=2" and rows[0]["output_repr"] == "3"
    assert rows[0]["problem_description"] == "Add two integers." and rows[0]["category"] == "math"
    assert rows[0]["policy"] == "json" and rows[0]["input_source"] == "given"
    assert all(r["reference_match"] is True for r in rows)


def test_input_is_recorded_before_in_place_mutation(corpus_run) -> None:
    [row] = corpus_run.rows_of("codeio#2")
    assert row["input"] == {"args": [], "kwargs": {"nums": [3, 1, 2]}}
    assert row["input_repr"] == "nums=[3, 1, 2]"
    assert row["output"] == [1, 2, 3, 0]
    [crux] = corpus_run.rows_of("sample_1")
    assert crux["input_repr"] == "[1, 2, 3]" and crux["output_repr"] == "(3, 2, 1)"
    assert crux["output"] is None and crux["policy"] == "python"  # a tuple is not JSON


def test_random_and_hash_order_are_withheld_as_nondeterministic(corpus_run) -> None:
    assert (
        corpus_run.rows_of("codeio#3") == []
        and reasons(corpus_run, "codeio#3") == ["nondeterministic"] * 2
    )
    assert corpus_run.rows_of("codeio#4") == [] and reasons(corpus_run, "codeio#4") == [
        "nondeterministic"
    ]
    detail = corpus_run.rejects_of("codeio#4")[0]["detail"]
    assert "run A gave" in detail and "run B gave" in detail
    # A set drawn by hypothesis: the empty set agrees, but the seed is withheld as a whole.
    unstable = reasons(corpus_run, "counting#unhashable_order")
    assert "nondeterministic" in unstable and "nondeterministic_seed" in unstable
    assert corpus_run.rows_of("counting#unhashable_order") == []
    assert corpus_run.stats.nondeterministic_seeds == 3


def test_errors_timeouts_and_size_filters_are_rejects_with_reasons(corpus_run) -> None:
    by_input = {r["input_repr"]: r for r in corpus_run.rejects_of("codeio#5")}
    assert by_input["n=5000"]["reason"] == "output_too_long"
    assert by_input["n=30"]["reason"] == "container_too_large"
    assert [r["output"] for r in corpus_run.rows_of("codeio#5")] == [[0, 1, 2, 3]]
    assert reasons(corpus_run, "codeio#6") == ["none_output"]
    [err] = corpus_run.rejects_of("codeio#7")
    assert err["reason"] == "error" and err["error"].startswith("ZeroDivisionError")
    assert [r["output"] for r in corpus_run.rows_of("codeio#7")] == [3]
    assert reasons(corpus_run, "codeio#8") == ["output_not_json"]  # a set from a JSON seed
    assert reasons(corpus_run, "codeio#9") == ["string_too_long"]
    assert reasons(corpus_run, "sample_4") == ["timeout"]
    assert reasons(corpus_run, "missing_entry") == ["no_entry"]
    assert reasons(corpus_run, "bad_syntax") == ["syntax_error"]
    assert reasons(corpus_run, "shapes#read_config") == ["does_io"]


def test_duplicates_and_recorded_labels(corpus_run) -> None:
    [dup] = corpus_run.rejects_of("codeio#10")
    assert dup["reason"] == "duplicate"
    assert corpus_run.rows_of("codeio#1")[0]["id"] in dup["detail"]
    [wrong] = corpus_run.rows_of("codeio#11")
    assert wrong["output"] == 42 and wrong["reference_match"] is False  # the file said 41
    assert corpus_run.stats.reference_mismatches == 1


def test_cruxeval_inputs_and_set_outputs(corpus_run) -> None:
    [star] = corpus_run.rows_of("sample_2")
    assert (
        star["input_repr"] == "5, 3" and star["output"] == 2
    )  # `*[5, 3]` evaluated in the sandbox
    [chars] = corpus_run.rows_of("sample_5")
    assert chars["output_repr"] == "{'e', 'h', 'l', 'o'}" and chars["reference_match"] is True


def test_generators_run_in_the_sandbox_until_k_distinct(corpus_run) -> None:
    rows = corpus_run.rows_of("gen_ok")
    assert len(rows) == 3 and len({r["input_repr"] for r in rows}) == 3
    for r in rows:
        kw = r["input"]["kwargs"]
        assert r["output"] == sum(range(kw["n"])) % (kw["k"] + 1)
        assert r["input_source"] == "generator" and r["category"] == "gen"
    assert sorted(r["input"]["kwargs"]["flag"] for r in corpus_run.rows_of("gen_few")) == [
        False,
        True,
    ]
    [raised] = corpus_run.rejects_of("gen_raises")
    assert raised["reason"] == "generator_error" and "no inputs today" in raised["detail"]
    assert reasons(corpus_run, "gen_bad") == ["generator_bad_output"]
    assert reasons(corpus_run, "gen_time") == ["generator_nondeterministic"]


def test_hypothesis_inputs_for_seeds_without_any(corpus_run) -> None:
    rows = corpus_run.rows_of("hinted")
    assert len(rows) == 3 and all(r["input_source"] == "hypothesis" for r in rows)
    for r in rows:
        kw = r["input"]["kwargs"]
        assert r["output"] == [v * kw["factor"] for v in kw["values"]]
    fib = {r["input"]["kwargs"]["n"]: r["output"] for r in corpus_run.rows_of("counting#fib")}
    assert len(fib) == 3
    a, b = 0, 1
    expected = {}
    for i in range(21):
        expected[i] = a
        a, b = b, a + b
    assert all(expected[n] == out for n, out in fib.items())
    helper = corpus_run.rows_of("shapes#scaled_sum")[0]
    assert "SCALE = 3" in helper["code"] and helper["policy"] == "python"
