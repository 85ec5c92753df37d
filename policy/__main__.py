"""Assemble the policy pack; the rules live in rules.py."""

import os
import sys

from pulumi_policy import EnforcementLevel, PolicyPack

# The analyzer runs this file directly; make rules.py importable either way.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rules import POLICIES, STACK_POLICIES  # noqa: E402

PolicyPack(
    name="monad-synapse-guardrails",
    description="Security and operability rules for the Monad Synapse stacks.",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=[*POLICIES, *STACK_POLICIES],
)
