"""The platform stack's settings: defaults, and every problem named at once with its key and a fix."""

from __future__ import annotations

import pytest

from addons.settings import LETS_ENCRYPT, PlatformSettingsError, settings_from_raw


def test_defaults_follow_the_stack():
    settings = settings_from_raw("production", {"acmeEmail": "ops@monad-synapse.com"})
    assert settings.acme_server == LETS_ENCRYPT
    assert settings.replicas == 2
    assert settings.challenge_gateways == ("monad-synapse-prod-gateway",)
    assert settings_from_raw(
        "staging", {"acmeEmail": "ops@monad-synapse.com", "challengeGateways": "[]"}
    ).challenge_gateways == ("monad-synapse-staging-gateway",)


def test_every_problem_is_reported_together_with_a_fix_line():
    raw = {
        "acmeEmail": "ops@",
        "acmeServer": "http://acme.example.com/directory",
        "replicas": "0",
        "challengeGateways": '["Not A Name"]',
        "grafanaAdminPasswordVersion": "true",
        "acmeEmial": "ops@monad-synapse.com",
    }
    with pytest.raises(PlatformSettingsError) as refused:
        settings_from_raw("staging", raw)
    problems = refused.value.problems
    assert len(problems) == 6
    text = "\n".join(problems)
    assert "fix: pulumi config set acmeEmail platform-team@monad-synapse.com -s staging" in text
    assert "fix: pulumi config set --path 'challengeGateways[0]' monad-synapse-staging-gateway -s staging" in text
    assert "fix: pulumi config rm acmeEmial -s staging" in text
    assert "fix: pulumi config set replicas 2 -s staging" in text


@pytest.mark.parametrize("replicas", ["1.5", "yes", "6", "-1", "[2]"])
def test_replicas_must_be_a_small_whole_number(replicas):
    with pytest.raises(PlatformSettingsError, match="replicas"):
        settings_from_raw("staging", {"acmeEmail": "ops@monad-synapse.com", "replicas": replicas})


def test_a_missing_email_is_named():
    with pytest.raises(PlatformSettingsError, match=r"acmeEmail = <not set>"):
        settings_from_raw("staging", {})


@pytest.mark.parametrize("name", ["monad-synapse-prod-gateway\n", "-gw", "gw_1", "GW"])
def test_a_gateway_must_be_an_object_name(name):
    import json

    with pytest.raises(PlatformSettingsError, match="challengeGateways"):
        settings_from_raw("staging", {"acmeEmail": "ops@monad-synapse.com", "challengeGateways": json.dumps([name])})


def test_a_gateway_named_twice_is_refused():
    """cert-manager's challenge HTTPRoute would carry the same parent twice, which the
    Gateway API's CEL rule on parentRefs refuses (the same parent needs distinct sections)."""
    with pytest.raises(PlatformSettingsError, match="more than once"):
        settings_from_raw("staging", {"acmeEmail": "ops@monad-synapse.com", "challengeGateways": '["gw", "gw"]'})
