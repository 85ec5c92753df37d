"""Command-line tools around the Pulumi program, each run as `python -m tools.<name>`:
render, diff, branch_diff, stack_secrets, switch_back, drift, e2e and bench
(with manifest and operations, the data they share). The offline engine they
run the program on is the `tools.engine` package."""
