"""Check that a stack can run `pulumi preview/up`: every secret the program
requires is in its stack file, encrypted, or comes from a Pulumi ESC
environment.

    python -m tools.stack_secrets STACK

Without them the CLI stops with "missing required configuration" after
installing everything; this says so first, naming each key and the command
that sets it. Exit codes: 0 ready; 2 something to set (or a bad stack name).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path
from typing import Optional

from tools.engine.stack_config import (
    PROJECT_DIR,
    ConfigInputError,
    available_stacks,
    load_stack_yaml,
    read_project_file,
    read_stack_file,
)

# An example value per secret, for the fix command (never a real value).
EXAMPLES = {
    "databaseUrl": "postgresql://USER:PASSWORD@HOST:5432/monad_synapse",
    "redisUrl": "rediss://:PASSWORD@HOST:6379/0",
    "alertSlackWebhookUrl": "https://hooks.slack.com/services/T000/B000/XXXX",
    "alertPagerdutyRoutingKey": "<32-character PagerDuty Events v2 integration key>",
    "databaseS3AccessKeyId": "AKIA...",
    "databaseS3SecretAccessKey": "<secret access key>",
    "databaseAppPassword": "<the same 64 letters and digits on both sites>",
}


def missing_secrets(stack: str, project_dir: Path = PROJECT_DIR) -> tuple[list[str], bool]:
    """(required secret keys the stack file lacks, whether it imports an ESC environment)."""
    stack_path = project_dir / f"Pulumi.{stack}.yaml"
    if stack not in available_stacks(project_dir):
        raise ConfigInputError(
            f"unknown stack {stack!r}: there is no Pulumi.{stack}.yaml. Known stacks: "
            f"{', '.join(available_stacks(project_dir)) or 'none'}"
        )
    project = read_project_file(project_dir)
    name = project["name"]
    required = [
        key
        for key, declaration in (project.get("config") or {}).items()
        if isinstance(declaration, dict) and declaration.get("secret") and "default" not in declaration
    ]
    document = load_stack_yaml(read_stack_file(stack_path), stack_path.name)
    config = document.get("config") or {}
    database = config.get(f"{name}:database")
    in_cluster = isinstance(database, dict) and database.get("kind") == "cloudnativepg"
    # databaseUrl has an empty default (the in-cluster database needs none):
    # the program requires it for the external database; the in-cluster one
    # needs its object-store credentials instead.
    required += ["databaseS3AccessKeyId", "databaseS3SecretAccessKey"] if in_cluster else ["databaseUrl"]
    if in_cluster and isinstance(database.get("replica"), dict) and database["replica"].get("enabled") is True:
        required.append("databaseAppPassword")

    def encrypted(value: object) -> bool:
        # The CLI decrypts `secure:` text; anything else there (a number, an
        # empty value, a map) stops `pulumi preview` as surely as a missing key.
        return (
            isinstance(value, dict)
            and set(value) == {"secure"}
            and isinstance(value["secure"], str)
            and bool(value["secure"].strip())
        )

    present = {key for key in required if encrypted(config.get(f"{name}:{key}"))}
    # An ESC import is a list of environment names (or a map with `imports:`).
    environment = document.get("environment")
    imports = environment.get("imports") if isinstance(environment, dict) else environment
    uses_esc = isinstance(imports, list) and bool(imports) and all(isinstance(item, str) and item for item in imports)
    return [key for key in required if key not in present], uses_esc


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stack_secrets", description=__doc__.split("\n\n")[0])
    parser.add_argument("stack", help="stack name (a Pulumi.STACK.yaml must exist)")
    args = parser.parse_args(argv)
    try:
        missing, uses_esc = missing_secrets(args.stack)
    except ConfigInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not missing:
        print(f"stack {args.stack}: every required secret is set (encrypted in Pulumi.{args.stack}.yaml)")
        return 0
    if uses_esc:
        print(
            f"stack {args.stack}: {', '.join(missing)} not in Pulumi.{args.stack}.yaml; "
            f"expecting them from its Pulumi ESC environment"
        )
        return 0
    annotate = "::error title=missing stack secrets::" if os.environ.get("GITHUB_ACTIONS") else "error: "
    lines = [
        f"{annotate}stack {args.stack} lacks required secret(s) {', '.join(missing)}; "
        f'`pulumi preview/up` would stop with "missing required configuration".',
        f"Set each once, encrypted with the stack's secrets provider, and commit Pulumi.{args.stack}.yaml:",
        *(
            f"  pulumi config set --secret {key} {shlex.quote(EXAMPLES.get(key, '<value>'))} -s {args.stack}"
            for key in missing
        ),
        f"or import them from a Pulumi ESC environment (`environment: [<project>/{args.stack}]` in "
        f'Pulumi.{args.stack}.yaml, values under pulumiConfig). See README, "Secrets for CI".',
    ]
    print("\n".join(lines), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
