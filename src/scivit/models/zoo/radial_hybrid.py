"""`radial_hybrid`: an image backbone beside a branch that reads the ring-averaged profile.

Scattering tags such as a lattice (rings at radius ratios 1 : sqrt2 : sqrt3 for BCC), a
structure-factor bump or a high-q halo are statements about the radial profile. A CNN sees them
only through small windows of a 2-D frame; here the profile is also read directly. The input is
the frame as `radial_channels` and `radius_channel` prepare it: one channel holding each pixel's
ring average and one holding its log distance from the beam centre (0 at the beam, ~1 at the
far corner). Averaging the ring-average channel in `bins` equal steps of that log radius gives
the profile on a log-radius axis, where a lattice is the same pattern of offsets wherever its
first ring falls; a small 1-D CNN encodes it (with the coverage of each bin, as parts of the
axis lie off the detector or behind the beam stop) and its embedding is appended to the image
backbone's features. The profile comes from the input alone, so the branch needs no beam centre
of its own and survives flips and rotations about the beam like the image.

The features keep timm's interface: `forward_features` returns the image backbone's maps (or
tokens) with the profile embedding broadcast as extra channels, `forward_head` pools the image
part as the image backbone does and appends the embedding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scivit.errors import ModelError
from scivit.models.backbones import BACKBONES, create_backbone
from scivit.models.zoo.base import Backbone


def log_radius_profile(
    values: torch.Tensor, radius: torch.Tensor, bins: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of each channel of `values` (N, C, H, W) in `bins` equal steps of `radius` (N, H, W)
    over [0, 1], (N, C, bins), and the fraction of the frame's pixels in each bin, (N, bins);
    0 where a bin is empty."""
    index = (radius.detach().flatten(1) * bins).floor().clamp_(0, bins - 1).long()
    flat = values.flatten(2)
    batch, channels = flat.shape[:2]
    counts = flat.new_zeros(batch, bins).scatter_add_(1, index, torch.ones_like(flat[:, 0]))
    by_channel = index[:, None, :].expand(-1, channels, -1)
    sums = flat.new_zeros(batch, channels, bins).scatter_add_(2, by_channel, flat)
    profile = sums / counts[:, None, :].clamp(min=1.0)
    return profile, counts / flat.shape[2]


class ProfileEncoder(nn.Module):
    """1-D CNN over (profiles, coverage) on the log-radius axis, keeping coarse position."""

    def __init__(
        self, bins: int, width: int, out_features: int, profiles: int = 1, positions: int = 16
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = profiles + 1
        for dilation in (1, 2, 4):
            layers += [
                nn.Conv1d(channels, width, 5, padding=2 * dilation, dilation=dilation),
                nn.BatchNorm1d(width),
                nn.GELU(),
            ]
            channels = width
        self.convs = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(min(positions, bins))
        self.project = nn.Linear(width * min(positions, bins), out_features)
        self.out_features = out_features

    def forward(self, profile: torch.Tensor, coverage: torch.Tensor) -> torch.Tensor:
        """Embed profiles (N, P, bins) with their coverage (N, bins)."""
        encoded = self.pool(self.convs(torch.cat([profile, coverage[:, None]], dim=1)))
        return self.project(encoded.flatten(1))


class RadialHybrid(Backbone):
    """`image` backbone features plus the embedding of the log-radius profile."""

    def __init__(
        self,
        image: nn.Module,
        profile_channels: list[int],
        radius_channel: int,
        bins: int,
        encoder: ProfileEncoder,
        image_channels: list[int] | None = None,
        image_size: int | None = None,
    ) -> None:
        super().__init__()
        self.image = image
        self.image_channels = image_channels
        self.image_size = image_size
        self.profile_channels = profile_channels
        self.radius_channel = radius_channel
        self.bins = bins
        self.encoder = encoder
        self.num_features = image.num_features + encoder.out_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        seen = x if self.image_channels is None else x[:, self.image_channels]
        if self.image_size is not None and seen.shape[-2:] != (self.image_size,) * 2:
            size = (self.image_size, self.image_size)
            seen = F.interpolate(seen, size=size, mode="bilinear", antialias=True)
        features = self.image.forward_features(seen)
        profile, coverage = log_radius_profile(
            x[:, self.profile_channels].float(), x[:, self.radius_channel].float(), self.bins
        )
        embedding = self.encoder(profile, coverage).to(features.dtype)
        if features.ndim == 4:
            spread = embedding[:, :, None, None].expand(-1, -1, *features.shape[2:])
            return torch.cat([features, spread], dim=1)
        spread = embedding[:, None, :].expand(-1, features.shape[1], -1)
        return torch.cat([features, spread], dim=-1)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        width = self.image.num_features
        if x.ndim == 4:
            image_part, embedding = x[:, :width], x[:, width:, 0, 0]
        else:
            image_part, embedding = x[..., :width], x[:, 0, width:]
        pooled = self.image.forward_head(image_part, pre_logits=True)
        return torch.cat([pooled, embedding], dim=1)


@BACKBONES.register("radial_hybrid")
def radial_hybrid(
    in_chans: int = 4,
    img_size: int | None = None,
    drop_path_rate: float = 0.0,
    image_backbone: str = "resnet34",
    image_pretrained: str | None = None,
    profile_channels: int | list[int] = 1,
    radius_channel: int = -1,
    image_channels: list[int] | None = None,
    image_size: int | None = None,
    bins: int = 128,
    width: int = 64,
    profile_features: int = 128,
) -> nn.Module:
    """`image_backbone` (any backbone name; weights from `image_pretrained`: a file, "hub" or a
    timm tag) on the `image_channels` (default all `in_chans`), plus the profiles of the
    `profile_channels` (one index or a list, e.g. a per-frame standardised and an absolute ring
    average) over the log radius in channel `radius_channel`, in `bins` bins. With `image_size`
    the image branch sees the frame resized to that size (antialiased) while the profile is
    read at the input's full resolution: a cheaper image branch, a finer profile."""
    profiles = [profile_channels] if isinstance(profile_channels, int) else list(profile_channels)
    radius = _channel_index("radius_channel", radius_channel, in_chans)
    chosen = [_channel_index("profile_channels", index, in_chans) for index in profiles]
    if not chosen or radius in chosen or len(set(chosen)) < len(chosen):
        raise ModelError(
            f"radial_hybrid: profile_channels={profiles} must be distinct channels other than "
            f"radius_channel={radius_channel}"
        )
    if bins < 8:
        raise ModelError(f"radial_hybrid: bins must be at least 8, got {bins}")
    if image_size is not None and image_size < 16:
        raise ModelError(f"radial_hybrid: image_size must be at least 16 px, got {image_size}")
    seen = None
    if image_channels is not None:
        seen = [_channel_index("image_channels", index, in_chans) for index in image_channels]
        if not seen or len(set(seen)) < len(seen):
            raise ModelError(f"radial_hybrid: image_channels={image_channels} must be distinct")
    image = create_backbone(
        image_backbone,
        in_chans=in_chans if seen is None else len(seen),
        pretrained=image_pretrained,
        img_size=image_size or img_size,
        drop_path_rate=drop_path_rate,
    )
    encoder = ProfileEncoder(bins, width, profile_features, profiles=len(chosen))
    return RadialHybrid(image, chosen, radius, bins, encoder, seen, image_size)


def _channel_index(key: str, index: object, in_chans: int) -> int:
    """`index` as a channel number in [0, in_chans), or a ModelError naming `key`."""
    if isinstance(index, bool) or not isinstance(index, int) or not -in_chans <= index < in_chans:
        raise ModelError(
            f"radial_hybrid: {key}={index} is not one of the {in_chans} input channels"
        )
    return index % in_chans
