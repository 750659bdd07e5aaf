"""The README's code runs as pasted: its Python blocks, in order, in one session (as a user
pasting them one after the other into one interpreter), in an empty folder; and every script
its shell blocks name exists."""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"^```{language}\n(.*?)^```$", README, re.M | re.S)


def test_the_readme_has_python_blocks_and_the_two_commands_near_the_top():
    assert len(blocks("python")) >= 5
    first_commands = blocks("bash")[:2]
    assert first_commands == ['pip install ".[examples]" && python examples/train_digits.py\n',
                              "bash scripts/test_all.sh\n"]


def test_every_python_block_runs_as_pasted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    session = {"__name__": "__readme__"}
    for number, code in enumerate(blocks("python"), 1):
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                exec(compile(code, f"README.md python block {number}", "exec"), session)
            except Exception as error:  # noqa: BLE001 - name the block that failed
                pytest.fail(f"README python block {number} raised {error!r}:\n{code}")
        if "0.7 -0.4 0.2" in code:  # the polynomial regression prints what its comment says
            assert out.getvalue().split() == ["0.7", "-0.4", "0.2"]
    assert (tmp_path / "my-model" / "model.json").is_file()


def test_scripts_named_in_shell_blocks_exist():
    named = [path for code in blocks("bash") for path in re.findall(r"\b((?:examples|bench|scripts)/\S+\.(?:py|sh))", code)]
    assert named
    for path in named:
        assert (ROOT / path).is_file(), path


def test_no_link_leaves_the_repository():
    for target in re.findall(r"\]\(([^)]+)\)|`(\.\./[^`]*)`", README):
        path = next(t for t in target if t)
        assert not path.startswith(("..", "/")), path
    assert "../" not in README
