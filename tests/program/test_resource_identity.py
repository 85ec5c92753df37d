"""Every resource keeps its URN: moving code between modules or packages
must not rename, re-type or re-parent anything, or `pulumi up` would
replace the running system. The expected URNs were recorded from main."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CLOUDNATIVEPG, secrets_for

GOLDEN = Path(__file__).parent / "golden"

# Together these declare every component and resource type the program has.
VARIANTS = {
    "staging": ("staging", ()),
    "production": ("production", ()),
    "production-cloudnativepg": (
        "production",
        CLOUDNATIVEPG + ("backup.storage.kind=s3", "backup.storage.s3.bucket=monad-synapse-dumps", "edge.kind=gateway"),
    ),
}


def urns(render_stack, stack: str, sets: tuple[str, ...]) -> list[str]:
    rendering = render_stack(stack, *sets, secrets=secrets_for(sets))
    return sorted(resource.urn for resource in rendering.run.resources)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_urn_is_unchanged(render_stack, variant):
    stack, sets = VARIANTS[variant]
    expected = (GOLDEN / f"urns-{variant}.txt").read_text().splitlines()
    assert urns(render_stack, stack, sets) == expected, (
        "a URN changed: `pulumi up` would replace what it names. If the change is meant, record it with "
        "venv/bin/python -m tests.program.test_resource_identity"
    )


if __name__ == "__main__":
    from tests.helpers import cached_render

    for name, (stack, sets) in VARIANTS.items():
        found = urns(lambda s, *v, secrets=(): cached_render(s, tuple(v), tuple(secrets)), stack, sets)
        (GOLDEN / f"urns-{name}.txt").write_text("\n".join(found) + "\n")
