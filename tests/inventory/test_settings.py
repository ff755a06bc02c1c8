"""The settings and formats the inventory adds: ``data_class`` (defaulting from the tier),
``policy`` (relative to the config file) and a vendor profile's ``vendor.providers``."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.config import ConfigError, load_settings
from scanner.inventory.policy import TIER_DATA_CLASS, region_allowed
from scanner.model import Tier
from scanner.vendors.profile_loader import ProfileError, parse_profile
from tests.inventory.common import PROFILE


def test_every_tier_implies_a_data_class_the_policy_knows() -> None:
    assert TIER_DATA_CLASS == {
        Tier.EXPLORATORY: "synthetic", Tier.INTERNAL_PILOT: "internal",
        Tier.REGULATED_PILOT: "regulated", Tier.PRODUCTION_CRITICAL: "regulated",
    }


def test_config_keys(tmp_path: Path) -> None:
    (tmp_path / ".qgov.yaml").write_text("policy: ../org/policy.yaml\ndata_class: masked\n")
    settings = load_settings(None, tmp_path, {})
    assert settings.data_class == "masked"
    assert settings.policy is not None
    assert settings.resolve(settings.policy) == tmp_path / "../org/policy.yaml"
    (tmp_path / ".qgov.yaml").write_text("data_class: secret\n")
    with pytest.raises(ConfigError, match="data_class"):
        load_settings(None, tmp_path, {})


@pytest.mark.parametrize(
    ("region", "allowed", "expected"),
    [("eu-west-2", ["eu-*"], True), ("West Europe", ["westeurope"], True),
     ("us-east-1", ["US-EAST-1"], True), ("us-west-1", ["us-east-1", "eu-*"], False),
     ("eastus", [], False)],
)
def test_regions_compare_as_written_by_either_side(
    region: str, allowed: list[str], expected: bool
) -> None:
    assert region_allowed(region, allowed) is expected


def test_a_profile_may_name_the_providers_it_assesses() -> None:
    text = PROFILE.replace("  fictional: true\n",
                           "  fictional: true\n  providers: [ionq, amazon-braket]\n")
    assert parse_profile(text, "p.yaml").profile.vendor.providers == ("ionq", "amazon-braket")
    assert parse_profile(PROFILE, "p.yaml").profile.vendor.providers is None
    with pytest.raises(ProfileError) as raised:
        parse_profile(PROFILE.replace("  fictional: true\n",
                                      "  fictional: true\n  providers: [IonQ Cloud]\n"), "p.yaml")
    assert str(raised.value).startswith("p.yaml:6: field 'vendor.providers[0]': expected a "
                                        "provider id")
