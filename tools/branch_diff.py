"""Render the base branch and the working tree offline and diff each stack:
what merging this change would do, for pull requests from forks too.

    python -m tools.branch_diff [--base REF] [--stack NAME]... [--markdown] [--out DIR]

The base is rendered with its own code (a temporary git worktree), the
working tree with the current code; both without cluster or credentials.
When only stack files differ (a config change, as most runbook operations
are), the base's code is this code and its stack files render in this
process too.
Exit code 2 when the working tree's config is refused (the errors are shown),
3 when a stack's change is a hazard that needs splitting (tools.diff says which).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional

from tools.diff import HAZARD_EXIT, compare, hazards_text, table
from tools.engine.stack_config import PROJECT_DIR, available_stacks
from tools.render import OutputDirectoryError, check_output_directory, mark_directory, write_atomically


def _git(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)


def default_base() -> str:
    for candidate in ("origin/main", "main"):
        if _git("rev-parse", "--verify", "--quiet", candidate).returncode == 0:
            return candidate
    return "HEAD"


# Every stack file of the app and of the platform add-ons.
STACK_FILES = ":(exclude,glob)**/Pulumi.*.yaml"


def only_stack_files_differ(base: str, checkout: Path = PROJECT_DIR) -> bool:
    """Whether the working tree (untracked files included) differs from
    `base` in stack files only: then the base's code is the code running here."""
    if _git("diff", "--quiet", base, "--", ".", STACK_FILES, cwd=checkout).returncode != 0:
        return False
    untracked = _git("ls-files", "--others", "--exclude-standard", "--", ".", STACK_FILES, cwd=checkout)
    return untracked.returncode == 0 and not untracked.stdout.strip()


def _render_base(source: Path, stack: str, out: Path, same_code: bool) -> bool:
    """Render the base's stack file with the base's code: in a process in its
    checkout, or here when that code is this code. False if it did not render
    (a stack the base lacks, or a config the base's code refuses)."""
    if not same_code:
        command = [sys.executable, "-m", "tools.render", stack, "--out", str(out)]
        return subprocess.run(command, cwd=source, capture_output=True, text=True).returncode == 0
    from tools.render import render

    try:
        rendering = render(stack, project_dir=source, program_dir=PROJECT_DIR)
    except Exception:  # noqa: BLE001 - as the base's own process failing: compared with nothing
        return False
    write_atomically(rendering.files, out)
    return True


def _render_head(stack: str, out: Path) -> subprocess.CompletedProcess:
    """The working tree renders with the code running here, in this process
    (no second interpreter and SDK import per stack)."""
    from tools import render as renderer

    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
        code = renderer.main([stack, "--out", str(out)])
    return subprocess.CompletedProcess(["tools.render", stack], code, printed.getvalue(), errors.getvalue())


def _empty_render(out: Path) -> None:
    write_atomically({"manifest.yaml": "", "outputs.json": "{}\n", "resources.json": "[]\n"}, out)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.branch_diff", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="git ref to compare with (default origin/main, else main)")
    parser.add_argument("--stack", action="append", dest="stacks", help="stack to render (default: every stack)")
    parser.add_argument("--markdown", action="store_true", help="Markdown output, for a CI job summary")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "diff", help="where renders go")
    args = parser.parse_args(argv)
    base = args.base or default_base()
    if _git("rev-parse", "--verify", "--quiet", base).returncode != 0:
        print(f"error: unknown git ref {base!r}; pass --base REF (a branch, tag or commit)", file=sys.stderr)
        return 2
    stacks = args.stacks or available_stacks()
    # A stack name becomes a path under --out: only the names of this
    # checkout's stack files (never "..", "/", or a name of another tree).
    unknown = [stack for stack in stacks if stack not in available_stacks()]
    if unknown:
        print(
            f"error: --stack {unknown[0]!r} is not a stack of this checkout; give one of "
            f"{', '.join(available_stacks())}",
            file=sys.stderr,
        )
        return 2
    # Only ever delete a directory the renderer made (as tools.render does).
    try:
        check_output_directory(args.out)
        shutil.rmtree(args.out, ignore_errors=True)
        mark_directory(args.out)
    except OutputDirectoryError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    worktree = Path(tempfile.mkdtemp(prefix="monad-synapse-base-"))
    status = 0
    try:
        added = _git("worktree", "add", "--detach", str(worktree / "src"), base)
        if added.returncode != 0:
            print(f"error: cannot check out {base}: {added.stderr.strip()}", file=sys.stderr)
            return 2
        same_code = only_stack_files_differ(base)
        heading = "###" if args.markdown else "==>"
        note = " (only stack files changed: the base renders with this code)" if same_code else ""
        print(f"{heading} Offline diff of {', '.join(stacks)} against {base}{note}\n")
        for stack in stacks:
            before, after = args.out / "base" / stack, args.out / "head" / stack
            if not _render_base(worktree / "src", stack, before, same_code):
                # A new stack, or a base that could not render: compare with nothing.
                _empty_render(before)
            head_render = _render_head(stack, after)
            print(f"{heading} {stack}\n")
            if head_render.returncode != 0:
                status = 2
                fence = "```" if args.markdown else ""
                print(
                    f"This change does not render; `pulumi up` would refuse it:\n{fence}\n{head_render.stderr.strip()}\n{fence}\n"
                )
                continue
            changes, hazards = compare(before, after)
            print(table(changes, markdown=args.markdown) + hazards_text(hazards, args.markdown))
            if hazards and status == 0:
                status = HAZARD_EXIT
    finally:
        _git("worktree", "remove", "--force", str(worktree / "src"))
        shutil.rmtree(worktree, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
