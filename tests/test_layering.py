"""The import layering of keras_rg, read from the source (no import of the package needed).

Two rules, from the project's architecture (docs/index.md, "How the package is organised"):

1. no module imports a module of a higher layer (same layer is fine):

   layer 0  arguments, backend, activations, layers, coarse_graining, information/, probe
            (keras/numpy maths; the private helper _quiet)
   layer 1  flow/, fixed_points, rg_optimizer, optimizers/, schedules, diagnostics, posterior,
            step_size, systems/, models (model builders)
   layer 2  experiments/
   layer 3  callbacks/, plotting/
   layer 4  validate/, demo, cli
   (the package's own ``__init__`` re-exports layers 0-3 and counts as layer 4)

2. no module imports a private name (``_x``) or a private module from outside the package that
   holds it: ``from keras_rg.systems.exponential_family import _as_theta`` in
   ``keras_rg.systems.cumulants`` is a violation; ``from keras_rg.information import _blocks`` in
   ``keras_rg.information.kde`` is not.

Every ``import`` statement counts, including those inside functions. ``KNOWN_VIOLATIONS`` lists the
edges that exist today in modules being moved on other branches; it may only shrink: an entry
that no longer occurs fails the test, so delete it when its edge is gone.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "keras_rg"

# Module prefix -> layer; the longest matching prefix wins. A module not covered fails the test
# (place every new module on purpose).
LAYERS = {
    "keras_rg._quiet": 0,
    "keras_rg.backend": 0,
    "keras_rg.arguments": 0,
    "keras_rg.activations": 0,
    "keras_rg.layers": 0,
    "keras_rg.coarse_graining": 0,
    "keras_rg.information": 0,
    "keras_rg.probe": 0,
    "keras_rg.flow": 1,
    "keras_rg.fixed_points": 1,
    "keras_rg.rg_optimizer": 1,
    "keras_rg.optimizers": 1,
    "keras_rg.schedules": 1,
    "keras_rg.diagnostics": 1,
    "keras_rg.posterior": 1,
    "keras_rg.step_size": 1,
    "keras_rg.systems": 1,
    "keras_rg.models": 1,
    "keras_rg.experiments": 2,
    "keras_rg.callbacks": 3,
    "keras_rg.plotting": 3,
    "keras_rg.validate": 4,
    "keras_rg.demo": 4,
    "keras_rg.cli": 4,
    "keras_rg": 4,
}

# (importing module, imported module or "module:name", rule) edges allowed for a stated reason,
# each to be removed with its reason; never add to it.
KNOWN_VIOLATIONS = {
    # The deprecated alias keras_rg.systems.teacher_student re-exports the experiment, which moved
    # up to experiments/; the alias (and this edge) goes in the next release.
    ("keras_rg.systems.teacher_student", "keras_rg.experiments.teacher_student", "upward"),
}


def module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_package(module):
    return (ROOT / module.replace(".", "/") / "__init__.py").exists()


def is_module(module):
    return is_package(module) or (ROOT / (module.replace(".", "/") + ".py")).exists()


def layer_of(module):
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return LAYERS[best]


def imports_of(path):
    """``(target module, imported name or None)`` for every keras_rg import in ``path``."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((a.name, None) for a in node.names if a.name.split(".")[0] == "keras_rg")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != "keras_rg":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub, None) if is_module(sub) else (base, alias.name))
    return out


def private_owner(target, name):
    """The package a private module/name belongs to (it is visible inside it), or None."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_"):
            return ".".join(parts[:i])
    if name is not None and name.startswith("_"):
        return target if is_package(target) else target.rpartition(".")[0] + "\0" + target
    return None


def violations():
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for target, name in imports_of(path):
            if layer_of(target) > layer_of(importer):
                found.add((importer, target, "upward"))
            owner = private_owner(target, name)
            if owner is not None:
                # "pkg\0module": a private name of a plain module, visible only inside it.
                inside = "\0" not in owner and (
                    importer == owner or importer.startswith(owner + ".")
                )
                if not inside:
                    found.add((importer, target if name is None else f"{target}:{name}", "private"))
    return found


def test_every_module_has_a_layer():
    unplaced = []
    for path in PACKAGE.rglob("*.py"):
        module = module_name(path)
        covering = [p for p in LAYERS if module == p or module.startswith(p + ".")]
        if covering == ["keras_rg"] and module != "keras_rg":
            unplaced.append(module)
    assert not unplaced, f"place these modules in LAYERS (tests/test_layering.py): {unplaced}"


def test_no_upward_or_private_imports():
    new = violations() - KNOWN_VIOLATIONS
    assert not new, (
        "imports that break the layering (importer, imported, rule); see the docstring of "
        f"tests/test_layering.py: {sorted(new)}"
    )


def test_known_violations_only_shrink():
    gone = KNOWN_VIOLATIONS - violations()
    assert not gone, (
        f"these edges no longer exist: delete them from KNOWN_VIOLATIONS: {sorted(gone)}"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from keras_rg.callbacks import RGFlow\n", {"upward"}),
        ("from keras_rg.systems.exponential_family import _as_theta\n", {"private"}),
        ("from keras_rg.information import _blocks\n", {"private"}),
        ("from keras_rg.arguments import check_int\n", set()),
        ("def f():\n    import keras_rg.validate.runner\n", {"upward"}),
    ],
)
def test_the_checker_catches_what_it_should(tmp_path, monkeypatch, source, expected):
    """The rules applied to a fake module of layer 1 (keras_rg.flow.fake), outside information/."""
    fake = PACKAGE / "flow" / "_layering_probe.py"
    monkeypatch.setattr(
        pathlib.Path, "rglob", lambda self, pattern: iter([fake]) if self == PACKAGE else iter([])
    )
    original = pathlib.Path.read_text
    monkeypatch.setattr(
        pathlib.Path,
        "read_text",
        lambda self, *a, **k: source if self == fake else original(self, *a, **k),
    )
    assert {rule for _, _, rule in violations()} == expected
