"""Registry: lookup, listing and the closest-name suggestion."""

import pytest

from scivit.errors import ConfigError, closest, unknown_name_message
from scivit.registry import Registry


def test_register_and_get():
    registry: Registry[int] = Registry("widget")
    registry.add("alpha", 1)

    @registry.register()
    def beta() -> int:
        return 2

    assert registry.get("alpha") == 1
    assert registry.get("beta")() == 2
    assert registry.names() == ["alpha", "beta"]
    assert "alpha" in registry and len(registry) == 2


def test_duplicate_name_rejected():
    registry: Registry[int] = Registry("widget")
    registry.add("alpha", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.add("alpha", 2)


def test_unknown_name_suggests_closest():
    registry: Registry[int] = Registry("backbone")
    registry.add("resnet34", 1)
    registry.add("vit_small", 2)
    with pytest.raises(ConfigError, match="unknown backbone 'resnet43'; did you mean 'resnet34'"):
        registry.get("resnet43")


def test_unknown_name_lists_options_when_nothing_close():
    message = unknown_name_message("loss", "zzz", ["bce", "focal"])
    assert message == "unknown loss 'zzz'; valid: bce, focal"
    assert closest("FOCAL", ["bce", "focal"]) == "focal"
