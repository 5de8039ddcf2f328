"""Every ```python block of README.md and docs/*.md runs (a newcomer can copy them).

Each page's blocks run in order in one namespace (a later block may use an earlier block's
names), in a fresh temporary folder. A block preceded by the line ``<!-- no-run -->`` is skipped
(keep those few: a long training run, a figure that needs a file). Blocks are written with small
sizes so the whole page runs in seconds.
"""

import pathlib
import re

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NO_RUN = "<!-- no-run -->"


def code_blocks(path):
    """``[(line number, source)]`` of the runnable ```python blocks of ``path``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "```python":
            start = i + 1
            end = next(j for j in range(start, len(lines)) if lines[j].strip() == "```")
            previous = next(
                (lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), ""
            )
            if previous != NO_RUN:
                blocks.append((start + 1, "\n".join(lines[start:end])))
            i = end
        i += 1
    return blocks


PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = code_blocks(page)
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    namespace = {"__name__": "__docs__"}
    for line, source in blocks:
        try:
            exec(compile(source, f"{page.name}:{line}", "exec"), namespace)  # noqa: S102
        except Exception as err:  # noqa: BLE001 - report which block failed
            pytest.fail(f"{page.name}, code block at line {line} raised {err!r}")


def test_no_run_marks_are_few_and_blocks_are_found():
    """The parser finds blocks and honours the mark, and most blocks run."""
    sample = ROOT / "README.md"
    text = sample.read_text(encoding="utf-8")
    total = len(re.findall(r"^```python$", text, flags=re.M))
    assert total >= 2
    runnable = len(code_blocks(sample))
    skipped_by_mark = text.count(NO_RUN)
    assert runnable >= 1 and skipped_by_mark <= total // 2


def test_index_lists_every_page():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for page in sorted((ROOT / "docs").glob("*.md")):
        if page.name != "index.md":
            assert f"({page.name})" in index, f"docs/index.md does not link {page.name}"


def test_readme_attribute_paths_resolve():
    """The README names objects by attribute path from ``import keras_rg``: each must resolve."""
    import keras_rg

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = r"`((?:validate|systems|flow|callbacks|information)\.[A-Za-z_.]+)(\*?)"
    paths = {path for path, star in re.findall(pattern, text) if not star}  # `x_*`: a family
    assert paths
    for path in sorted(paths):
        obj = keras_rg
        for part in path.split("."):
            obj = getattr(obj, part, None)
            assert obj is not None, f"README names keras_rg.{path}, which does not resolve"
