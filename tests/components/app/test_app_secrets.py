"""App secrets: appSecrets.<KEY> values, given encrypted, reach the pods through
the app's Secret (never a ConfigMap), roll the pods when they change, and are
refused in plaintext or under a name the rules refuse."""

from __future__ import annotations

import pytest

from settings import SettingsError
from tests.helpers import cached_render, rendered_objects
from tools.engine.stack_config import ConfigInputError
from tools.render import render

STRIPE = "appSecrets.STRIPE_API_KEY=sk_live_0123456789abcdef"


def objects(*secrets: str, sets: tuple[str, ...] = ()) -> dict:
    return rendered_objects(cached_render("production", tuple(sets), tuple(secrets)))


def test_an_app_secret_reaches_the_pods_through_the_app_secret_only():
    found = objects(STRIPE)
    rendered = cached_render("production", (), (STRIPE,))
    secret = found["Secret/production/monad-synapse-secrets"]["stringData"]
    assert secret["STRIPE_API_KEY"] == "[secret]"
    assert not any("STRIPE_API_KEY" in (obj.get("data") or {}) for obj in found.values() if obj["kind"] == "ConfigMap")
    assert "sk_live_0123456789abcdef" not in "".join(rendered.files.values())
    (container,) = found["Deployment/production/monad-synapse-blue"]["spec"]["template"]["spec"]["containers"]
    assert {"secretRef": {"name": "monad-synapse-secrets"}} in container["envFrom"]


def test_changing_an_app_secret_rolls_the_pods():
    def checksum(*secrets: str) -> str:
        deployment = objects(*secrets)["Deployment/production/monad-synapse-blue"]
        return deployment["spec"]["template"]["metadata"]["annotations"]["monad-synapse.com/secret-checksum"]

    without, first, second = checksum(), checksum(STRIPE), checksum("appSecrets.STRIPE_API_KEY=sk_live_other000000")
    assert len({without, first, second}) == 3


def test_without_app_secrets_nothing_changes():
    """Existing stacks roll nothing when they upgrade to a program with app secrets."""
    secret = objects()["Secret/production/monad-synapse-secrets"]["stringData"]
    assert set(secret) == {"DATABASE_URL", "JWT_SECRET", "REDIS_URL"}


def problems(sets: tuple[str, ...] = (), secrets: tuple[str, ...] = ()) -> dict[str, str]:
    with pytest.raises((SettingsError, ConfigInputError)) as caught:
        render("production", sets, secrets)
    assert isinstance(caught.value, SettingsError), caught.value
    return {problem.path: str(problem) for problem in caught.value.problems}


def test_a_plaintext_app_secret_is_refused_without_showing_it():
    found = problems(sets=("appSecrets.STRIPE_API_KEY=sk_live_plaintext_value",))
    assert "not encrypted" in found["appSecrets"]
    assert "pulumi config set --secret --path" in found["appSecrets"]
    assert "sk_live_plaintext_value" not in "".join(found.values())


@pytest.mark.parametrize(
    ("assignment", "path"),
    [
        ("appSecrets.stripe-key=abc", "appSecrets.stripe-key"),
        ("appSecrets.JWT_SECRET=abc", "appSecrets.JWT_SECRET"),
        ("appSecrets.EMPTY=", "appSecrets.EMPTY"),
    ],
)
def test_app_secret_names_and_values_follow_the_rules(assignment, path):
    found = problems(secrets=(assignment,))
    assert path in found
    assert "abc" not in found[path].split(":")[0]


def test_a_name_in_both_app_config_and_app_secrets_is_refused():
    found = problems(sets=("appConfig.STRIPE_MODE=live",), secrets=("appSecrets.STRIPE_MODE=x1",))
    assert "appSecrets.STRIPE_MODE" in found
