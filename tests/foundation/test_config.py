from __future__ import annotations

import pytest
from pydantic import Field

from kodeio.config import StageConfig, load_config
from kodeio.errors import ConfigError


class Inner(StageConfig):
    lr: float = 1e-4
    steps: int = 10


class Demo(StageConfig):
    name: str = "x"
    inner: Inner = Field(default_factory=Inner)
    tags: list[str] = []


def test_file_values_and_overrides_compose(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("name: a\ninner:\n  lr: 0.5\n")
    cfg = load_config(Demo, cfg_file, ["inner.steps=3", "tags=[a, b]"], values={"name": "cli"})
    assert (
        cfg.name == "cli"
        and cfg.inner.lr == 0.5
        and cfg.inner.steps == 3
        and cfg.tags == ["a", "b"]
    )


def test_recipe_section_is_used(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("run_dir: runs/x\ndemo:\n  name: from-section\nother:\n  foo: 1\n")
    cfg = load_config(Demo, recipe, ["demo.inner.steps=7"], section="demo")
    assert cfg.name == "from-section" and cfg.inner.steps == 7


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("nmae: a\n", ["unknown key 'nmae'"]),
        ("inner:\n  steps: many\n", ["inner.steps", "integer"]),
        ("inner: 3\n", ["inner"]),
    ],
)
def test_errors_name_file_key_and_expectation(tmp_path, text, needles):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(Demo, path)
    msg = str(info.value)
    assert str(path) in msg
    for needle in needles:
        assert needle in msg
    assert info.value.exit_code == 2


def test_bad_yaml_and_missing_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="broken.yaml:"):
        load_config(Demo, path)
    with pytest.raises(ConfigError, match="not found"):
        load_config(Demo, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(Demo, None, ["novalue"])
