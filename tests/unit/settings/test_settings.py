"""Settings: secrets from files, the environment first, and URLs safe to print."""

import ast
import json
from pathlib import Path

import pytest

from aetheredge.settings import GROUPS, Settings
from aetheredge.settings.sources import redacted

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://edge:s3cr%40t@postgres:5432/x", "postgresql://edge:***@postgres:5432/x"),
        ("redis://:pw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("postgresql://edge@db/x", "postgresql://edge@db/x"),
    ],
)
def test_printed_urls_never_carry_the_password(url, shown):
    assert redacted(url) == shown


def test_secret_files_set_settings_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "AETHER_DATABASE_URL").write_text("postgresql://edge:pw@from-file/x")
    (tmp_path / "AETHER_REDIS_URL").write_text("redis://:pw@from-file:6379/0")
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("AETHER_REDIS_URL", "redis://from-env:6379/0")
    settings = Settings()
    assert settings.database_url == "postgresql://edge:pw@from-file/x"
    assert settings.redis_url == "redis://from-env:6379/0"
    env = settings.child_env()
    assert "AETHER_DATABASE_URL" not in env  # a child reads the same file
    assert env["AETHER_REDIS_URL"] == "redis://from-env:6379/0"


def test_a_missing_secrets_folder_is_no_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path / "absent"))
    assert Settings().database_url == Settings.model_fields["database_url"].default


def test_every_setting_belongs_to_exactly_one_group():
    grouped = [name for group in GROUPS for name in group.model_fields]
    assert sorted(grouped) == sorted(Settings.model_fields)
    assert len(grouped) == len(set(grouped))
    assert all(field.description for field in Settings.model_fields.values())


def test_no_module_builds_settings_at_import_time():
    """Settings are read when a process needs them (a replica's constructor, a command),
    never as a side effect of an import: an import would freeze the environment it saw."""
    found = {}
    for package in ("aetheredge", "serve", "train", "jobs"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in import_time_nodes(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Settings"
                ):
                    found.setdefault(str(path.relative_to(ROOT)), []).append(node.lineno)
    assert found == {}


def import_time_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node an import evaluates: module and class bodies, decorators and default
    values, but not what runs only when a function is called."""
    nodes, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defaults = [d for d in node.args.kw_defaults if d is not None]
            todo += [*node.decorator_list, *node.args.defaults, *defaults]
        elif not isinstance(node, ast.Lambda):
            nodes.append(node)
            todo.extend(ast.iter_child_nodes(node))
    return nodes


def test_settings_from_an_environ_read_it_alone(tmp_path, monkeypatch):
    """A pod's (or a ConfigMap's) environment, not this process's, nor its secret files."""
    (tmp_path / "AETHER_REDIS_URL").write_text("redis://:pw@from-file:6379/0")
    monkeypatch.setenv("AETHER_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("AETHER_DATABASE_SCHEMA", "from_this_process")
    keys = json.dumps([{"name": "ops", "sha256": "0" * 64, "scopes": ["admin"]}])
    settings = Settings.from_environ({"AETHER_SERVE_PORT": "8123", "AETHER_API_KEYS": keys})
    assert settings.serve_port == 8123
    assert [key.name for key in settings.api_keys] == ["ops"]  # JSON, as from the environment
    assert settings.database_schema == Settings.model_fields["database_schema"].default
    assert settings.redis_url == Settings.model_fields["redis_url"].default
    assert Settings().database_schema == "from_this_process"  # and nothing leaks afterwards
