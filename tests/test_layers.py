"""The apps are layers that point one way: accounts ← frameworks ← metrics ← reports.

An app may import itself and the apps to its left, never one to its right, and none imports the
project package ``pcc_perf`` (settings come through ``django.conf.settings``). The same holds for the
schema: a model's foreign keys point only at its own app or apps to its left.
"""

import ast
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["accounts", "frameworks", "metrics", "reports"]
PROJECT = "pcc_perf"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)  # relative imports stay inside their own app
    return found


def _source_files() -> list[Path]:
    return [
        path
        for app in LAYERS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts and "tests" not in path.relative_to(ROOT).parts
    ]


def wrong_way_imports() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in _source_files():
        relative = path.relative_to(ROOT)
        rank = LAYERS.index(relative.parts[0])
        for module in _imported_modules(path):
            top = module.split(".")[0]
            if top == PROJECT or (top in LAYERS and LAYERS.index(top) > rank):
                found.add((relative.as_posix(), top))
    return found


def wrong_way_foreign_keys() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for model in apps.get_models():
        label = model._meta.app_label
        if label not in LAYERS:
            continue
        for field in model._meta.get_fields():
            target = field.related_model if field.is_relation and field.concrete else None
            if target is None or target._meta.app_label not in LAYERS:
                continue
            if LAYERS.index(target._meta.app_label) > LAYERS.index(label):
                found.add((model._meta.label, target._meta.label))
    return found


def test_the_layer_test_sees_the_code():
    files = {path.relative_to(ROOT).as_posix() for path in _source_files()}
    assert {"accounts/models.py", "frameworks/models.py", "metrics/models.py", "reports/models.py"} <= files
    assert not any("/migrations/" in f for f in files)


def test_no_app_imports_an_app_to_its_right_or_the_project_package():
    assert wrong_way_imports() == set(), "imports against accounts ← frameworks ← metrics ← reports"


def test_no_foreign_key_points_to_an_app_to_the_right():
    assert wrong_way_foreign_keys() == set(), "foreign keys against accounts ← frameworks ← metrics ← reports"


def test_accounts_is_the_bottom_layer():
    assert {imported for file, imported in wrong_way_imports() if file.startswith("accounts/")} == set()
