"""PostgreSQL's own rules for the parameters a stack may set (pure), so that
a value the server would refuse at start is refused at preview instead.

The table is PostgreSQL 15's pg_settings (vartype, unit, min_val, max_val,
enumvals) for the allow list; the parsing follows guc.c (`parse_int`,
`parse_real`, `parse_bool`, the memory and time unit tables): units are
case-sensitive, a unitless parameter takes no unit, a fraction is rounded
in the parameter's base unit. tests/settings/test_postgres_parameters.py holds both
to a real server's verdict (`postgres -C`).
"""

from __future__ import annotations

import re
from typing import Optional

# name: (type, base unit, minimum, maximum, enum values)
PARAMETERS: dict[str, tuple[str, str, float, float, tuple[str, ...]]] = {
    "autovacuum_analyze_scale_factor": ("real", "", 0, 100, ()),
    "autovacuum_max_workers": ("integer", "", 1, 262143, ()),
    "autovacuum_naptime": ("integer", "s", 1, 2147483, ()),
    "autovacuum_vacuum_cost_limit": ("integer", "", -1, 10000, ()),
    "autovacuum_vacuum_scale_factor": ("real", "", 0, 100, ()),
    "checkpoint_completion_target": ("real", "", 0, 1, ()),
    "checkpoint_timeout": ("integer", "s", 30, 86400, ()),
    "default_statistics_target": ("integer", "", 1, 10000, ()),
    "effective_cache_size": ("integer", "8kB", 1, 2147483647, ()),
    "effective_io_concurrency": ("integer", "", 0, 1000, ()),
    "idle_in_transaction_session_timeout": ("integer", "ms", 0, 2147483647, ()),
    "idle_session_timeout": ("integer", "ms", 0, 2147483647, ()),
    "jit": ("bool", "", 0, 0, ()),
    "lock_timeout": ("integer", "ms", 0, 2147483647, ()),
    "log_autovacuum_min_duration": ("integer", "ms", -1, 2147483647, ()),
    "log_lock_waits": ("bool", "", 0, 0, ()),
    "log_min_duration_statement": ("integer", "ms", -1, 2147483647, ()),
    "log_temp_files": ("integer", "kB", -1, 2147483647, ()),
    "maintenance_work_mem": ("integer", "kB", 1024, 2147483647, ()),
    "max_connections": ("integer", "", 1, 262143, ()),
    "max_parallel_workers": ("integer", "", 0, 1024, ()),
    "max_parallel_workers_per_gather": ("integer", "", 0, 1024, ()),
    "max_wal_size": ("integer", "MB", 2, 2147483647, ()),
    "max_worker_processes": ("integer", "", 0, 262143, ()),
    "min_wal_size": ("integer", "MB", 2, 2147483647, ()),
    "pg_stat_statements.max": ("integer", "", 100, 1073741823, ()),
    "pg_stat_statements.track": ("enum", "", 0, 0, ("none", "top", "all")),
    "random_page_cost": ("real", "", 0, 1.79769e308, ()),
    "shared_buffers": ("integer", "8kB", 16, 1073741823, ()),
    "statement_timeout": ("integer", "ms", 0, 2147483647, ()),
    "track_io_timing": ("bool", "", 0, 0, ()),
    "wal_compression": ("enum", "", 0, 0, ("pglz", "lz4", "zstd", "on", "off")),
    "wal_keep_size": ("integer", "MB", 0, 2147483647, ()),
    "work_mem": ("integer", "kB", 64, 2147483647, ()),
}

_MEMORY = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_BASE = {
    "8kB": ("memory", 8192),
    "kB": ("memory", 1024),
    "MB": ("memory", 1024**2),
    "ms": ("time", 1),
    "s": ("time", 1000),
}
_NUMBER = re.compile(r"^\s*([-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*([A-Za-z]*)\s*$")
_BOOLS = ("true", "false", "yes", "no", "on", "off", "1", "0")


def _is_bool(text: str) -> bool:
    """guc.c parse_bool: these words, any case, or a unique prefix (on/off need two letters)."""
    word = text.strip().lower()
    if not word:
        return False
    if word in ("on", "off", "of", "1", "0"):
        return True
    return any(candidate.startswith(word) for candidate in ("true", "false", "yes", "no")) and word not in ("o",)


def problem(name: str, value: str) -> Optional[str]:
    """Why PostgreSQL would refuse `value` for `name`, or None (unknown names: None)."""
    if name not in PARAMETERS:
        return None
    kind, unit, minimum, maximum, choices = PARAMETERS[name]
    if kind == "bool":
        return None if _is_bool(value) else "must be on or off (or true/false, yes/no, 1/0)"
    if kind == "enum":
        accepted = choices + (_BOOLS if "on" in choices else ())
        return None if value.strip().lower() in accepted else f"must be one of {', '.join(choices)}"
    match = _NUMBER.match(value)
    if not match:
        return "must be a number" + (f", with a unit such as {_example(unit)}" if unit else "")
    number, given_unit = float(match.group(1)), match.group(2)
    if given_unit:
        if not unit:
            return "takes no unit: give a plain number"
        family, base = _BASE[unit]
        table = _MEMORY if family == "memory" else _TIME
        if given_unit not in table:
            return f"unit {given_unit!r} is not a {family} unit PostgreSQL knows ({', '.join(table)}; case matters)"
        number = number * table[given_unit] / base
    if kind == "integer":
        number = round(number)
    if not minimum <= number <= maximum:
        shown = f"{minimum:g} .. {maximum:g}" + (f" (in {unit})" if unit else "")
        return f"is outside the range PostgreSQL accepts: {shown}"
    return None


def _example(unit: str) -> str:
    return {"8kB": "256MB", "kB": "64MB", "MB": "1GB", "ms": "30s", "s": "5min"}[unit]
