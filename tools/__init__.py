"""Command-line tools around the Pulumi program (offline render, diff, ...)."""
