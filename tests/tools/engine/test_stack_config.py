"""resolve_config reproduces how the Pulumi CLI assembles a stack's config."""

from __future__ import annotations

import re

import pytest
import yaml

from tools.engine.stack_config import (
    SECRET_PLACEHOLDER,
    ConfigInputError,
    load_stack_yaml,
    parse_path,
    parse_path_value,
    resolve_config,
)


def test_project_defaults_then_stack_file(project_dir):
    resolved = resolve_config("staging")
    project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text())["config"]
    assert resolved.values["activeColor"] == project["activeColor"]["default"]
    assert resolved.values["namespace"] == "staging"
    assert resolved.values["autoscaling"] == {"minReplicas": 2, "maxReplicas": 4}  # stack replaces the default


def test_path_sets_create_nested_values_with_cli_typing():
    resolved = resolve_config(
        "production",
        sets=("autoscaling.maxReplicas=15", "appConfig.FLAG=true", "appConfig.CODE=007", "maintenanceMode=true"),
    )
    assert resolved.values["autoscaling"] == {"maxReplicas": 15}
    assert resolved.values["appConfig"] == {"FLAG": True, "CODE": "007"}
    # Top-level values are always strings, as `pulumi config set` stores them.
    assert resolved.values["maintenanceMode"] == "true"


def test_path_syntax():
    assert parse_path('a.b["c.d"][2]') == ["a", "b", "c.d", 2]
    for bad in ("", ".a", "a..b", "[0]", "a b"):
        with pytest.raises(ConfigInputError):
            parse_path(bad)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("false", False),
        ("15", 15),
        ("-3", -3),
        ("0", 0),
        ("007", "007"),
        ("1.5", "1.5"),
        ("yes", "yes"),
        ("", ""),
    ],
)
def test_path_value_typing(text, value):
    assert parse_path_value(text) == value


def test_unset_secrets_become_placeholders_with_a_warning():
    resolved = resolve_config("staging")
    assert resolved.values["databaseUrl"] == SECRET_PLACEHOLDER
    assert {"databaseUrl", "redisUrl"} <= resolved.secret_keys
    assert any("databaseUrl is not set" in warning for warning in resolved.warnings)


def test_set_secret_marks_the_key_secret_and_remembers_the_plaintext():
    resolved = resolve_config("staging", secret_sets=("databaseUrl=postgresql://u:hunter2@db:5432/app",))
    assert resolved.values["databaseUrl"] == "postgresql://u:hunter2@db:5432/app"
    assert "postgresql://u:hunter2@db:5432/app" in resolved.secret_plaintexts
    flat, secret_keys = resolved.runtime_config()
    assert "monad-synapse:databaseUrl" in secret_keys
    assert not any("databaseUrl is not set" in warning for warning in resolved.warnings)


def test_encrypted_stack_values_become_placeholders(tmp_path, project_dir):
    (tmp_path / "Pulumi.yaml").write_text((project_dir / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.enc.yaml").write_text(
        yaml.safe_dump({"config": {"monad-synapse:databaseUrl": {"secure": "v1:abcdef"}, "kubernetes:context": "kind"}})
    )
    resolved = resolve_config("enc", project_dir=tmp_path)
    assert resolved.values["databaseUrl"] == SECRET_PLACEHOLDER
    assert "databaseUrl" in resolved.secret_keys
    assert resolved.foreign == {"kubernetes:context": "kind"}
    assert any("cannot be decrypted offline" in warning for warning in resolved.warnings)


@pytest.mark.parametrize("stack", ["prod", "../etc", "staging;rm"])
def test_unknown_stack_is_named(stack):
    with pytest.raises(ConfigInputError) as caught:
        resolve_config(stack)
    assert repr(stack) in str(caught.value)
    assert "production, staging" in str(caught.value)


def test_malformed_set_flag_is_refused():
    with pytest.raises(ConfigInputError, match="PATH=VALUE"):
        resolve_config("staging", sets=("maintenanceMode",))


def test_secret_keys_must_use_set_secret():
    with pytest.raises(ConfigInputError, match="--set-secret databaseUrl=VALUE"):
        resolve_config("staging", sets=("databaseUrl=postgresql://u:p@h/db",))


HOSTILE_STACK_FILES = {
    # 9^7 values from a few lines: each level lists the one before nine times.
    "alias-bomb": "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{level}: &{level} [{', '.join(['*' + before] * 9)}]\n"
        for before, level in zip("abcdef", "bcdefg", strict=True)
    )
    + "config:\n  monad-synapse:namespace: *g\n",
    "recursive-alias": "config:\n  monad-synapse:appConfig: &a [*a]\n",
    "deep-flow-nesting": "config:\n  monad-synapse:appConfig: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep-block-nesting": "config:\n  monad-synapse:appConfig:\n    " + "- " * 100_000 + "x\n",
    "config-is-a-scalar": "config: hello\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_STACK_FILES))
def test_a_hostile_stack_file_is_refused_in_bounded_time_without_a_crash(tmp_path, project_dir, name):
    """An alias bomb hung the reader, a recursive alias or deep nesting
    crashed it (a line of 100 000 `- ` overflowed libyaml's stack in a
    separate process's worth of recursion), `config: hello` raised a
    traceback: each is now a ConfigInputError naming the file."""
    import subprocess
    import sys

    (tmp_path / "Pulumi.yaml").write_text((project_dir / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.hostile.yaml").write_text(HOSTILE_STACK_FILES[name])
    # In a process of its own: a segmentation fault must show as one.
    probe = (
        "import sys; from pathlib import Path; from tools.engine.stack_config import resolve_config, ConfigInputError\n"
        "try:\n    resolve_config('hostile', project_dir=Path(sys.argv[1]))\n"
        "except ConfigInputError as error:\n    print('refused:', error)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], cwd=project_dir, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.startswith("refused: ") and "Pulumi.hostile.yaml" in result.stdout


@pytest.mark.parametrize(
    "content, message",
    [(b"config:\n  monad-synapse:namespace: caf\xe9\n", "not UTF-8"), (b"#" * (2 << 20), "a stack file is at most")],
)
def test_a_stack_file_that_is_not_text_or_too_large_is_refused(tmp_path, project_dir, content, message):
    (tmp_path / "Pulumi.yaml").write_text((project_dir / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.odd.yaml").write_bytes(content)
    with pytest.raises(ConfigInputError, match=message):
        resolve_config("odd", project_dir=tmp_path)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "config:\n  monad-synapse:maintenanceMode: 'true'\n  monad-synapse:maintenanceMode: 'false'\n",
            "line 3: config key 'monad-synapse:maintenanceMode' is already defined",
        ),
        (
            "config:\n  monad-synapse:namespace: a\nconfig:\n  monad-synapse:domain: b.example.com\n",
            "'config' is already defined",
        ),
        (
            "config:\n  monad-synapse:autoscaling:\n    minReplicas: 3\n    minReplicas: 8\n",
            "key 'minReplicas' is already",
        ),
        ("config:\n  monad-synapse:appConfig:\n    ? [A, B]\n    : x\n", "a map key must be a plain value"),
    ],
    ids=["config-key-twice", "config-section-twice", "nested-key-twice", "sequence-key"],
)
def test_what_the_cli_refuses_in_a_stack_file_is_refused(text, message):
    """yaml.v3 refuses a key written twice in one map (the old reader kept
    the last, silently) and a non-scalar key."""
    with pytest.raises(ConfigInputError, match=re.escape(message)):
        load_stack_yaml(text, "Pulumi.x.yaml")


def test_merge_keys_and_explicit_string_tags_decode_as_the_cli_does():
    document = load_stack_yaml(
        "config:\n  monad-synapse:autoscaling:\n    base: &base {minReplicas: 3, maxReplicas: 20}\n"
        "    live:\n      <<: *base\n      maxReplicas: 30\n    version: !!str 010\n    octal: 010\n",
        "Pulumi.x.yaml",
    )
    autoscaling = document["config"]["monad-synapse:autoscaling"]
    assert autoscaling["live"] == {"minReplicas": 3, "maxReplicas": 30}  # written-out keys win over merged ones
    assert (autoscaling["version"], autoscaling["octal"]) == ("010", 8)


def _flow_nesting_by_character(text: str) -> int:
    """The flow-nesting rule read one character at a time: the model the
    scanner must agree with."""
    depth = deepest = 0
    quote = ""
    in_comment = False
    for index, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif quote:
            if char == quote and not (quote == '"' and text[index - 1] == "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t\n"):
            in_comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


FLOW_NESTING_CASES = [
    "a: [1, [2, {b: [3]}]]",
    "a: '[[[' \nb: [x]",
    'a: "[[\\"[[" \nb: [[x]]',
    'a: "\\\\" [[x]]',
    'a: "[\\\\\\"[" [x]',
    "a: x#[[[\nb: [[y]]",
    "#[[[\n[[x]]",
    "a: [x] # [[[\nb: {c: d}",
    "a: \t#{{{\n{x: [y]}",
    "a: 'it''s [' [[[x]]]",
    "a: '[[[",
    'a: "[[[',
    "]]]]] [[x]]",
    "",
    "{[{[{[",
    "k: v\n- [a, 'b]', \"c}\", {d: [e]}]\n# ]]]\n",
]


@pytest.mark.parametrize("text", FLOW_NESTING_CASES)
def test_the_flow_nesting_scan_reads_quotes_and_comments_as_the_character_model_does(text):
    from tools.engine.stack_file import _flow_nesting

    assert _flow_nesting(text) == _flow_nesting_by_character(text)


def test_the_flow_nesting_scan_agrees_on_random_text():
    import random

    from tools.engine.stack_file import _flow_nesting

    generator = random.Random(20261204)
    alphabet = "[]{}'\"\\# \t\nab:-"
    for _ in range(3000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randrange(40)))
        assert _flow_nesting(text) == _flow_nesting_by_character(text), repr(text)
