"""Random views of detector frames for self-supervised pretraining (multi-crop).

A view is an independent random draw of physically valid changes to one preprocessed frame:
a random-resized crop of the frame turned about its beam centre and mirrored (one resampling,
`scivit.transforms.crop.RandResizedCrop`), a change of overall intensity and of exposure
(`RandIntensityScale`, `RandPoisson`), a gamma contrast curve and a Gaussian blur
(`scivit.transforms.photometric`); never colour jitter. The mask follows every geometric change
and masked pixels are 0 in the output; on request the views come with their masks.

`MultiCropViews` makes the global and local views of DINO's multi-crop (Caron et al.,
"Emerging Properties in Self-Supervised Vision Transformers", ICCV 2021; multi-crop from
Caron et al., "Unsupervised Learning of Visual Features by Contrasting Cluster Assignments",
NeurIPS 2020) as `ViewOptions` describe them; one global view and no local ones is the single
view of a masked autoencoder.

Counts and the cache: the cached frames (`data.preprocess`) may hold counts or
``log(I + offset)`` when `log` is their last step. Intensity scaling and Poisson resampling work
on counts, so for log frames they run between `unlog` and `log` with the same offset.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from scivit.config import StrictModel
from scivit.errors import ConfigError
from scivit.transforms.base import Compose, Seed
from scivit.transforms.build import build_transforms
from scivit.transforms.sample import Sample

COUNTS_LOST_BY = ("standardize", "radial_normalize", "clip_percentile", "polar")


class ViewOptions(StrictModel):
    """How the views of a frame are drawn (sizes in pixels of the cached frames).

    `normalize` are the deterministic steps every view ends with (after the counts-space
    changes); `blur_prob` is the blur probability of the first global view, the other global
    views and the local views (DINO uses 1.0, 0.1, 0.5).
    """

    global_size: PositiveInt = 224
    global_scale: tuple[float, float] = (0.4, 1.0)
    local_size: PositiveInt = 96
    local_scale: tuple[float, float] = (0.05, 0.4)
    n_local: NonNegativeInt = 6
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    rotate_degrees: float = Field(180.0, ge=0, le=180)
    flip: bool = True
    intensity_scale: tuple[float, float] | None = (0.5, 2.0)
    poisson_exposure: tuple[float, float] | None = (0.1, 1.0)
    poisson_prob: float = Field(0.5, ge=0, le=1)
    gamma: tuple[float, float] | None = (0.7, 1.4)
    gamma_prob: float = Field(0.5, ge=0, le=1)
    blur_sigma: tuple[float, float] | None = (0.1, 2.0)
    blur_prob: tuple[float, float, float] = (1.0, 0.1, 0.5)
    normalize: list[dict[str, Any]] = Field(default_factory=lambda: [{"name": "standardize"}])

    @field_validator("blur_prob")
    @classmethod
    def _probabilities(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(0 <= p <= 1 for p in value):
            raise ValueError("probabilities must lie in [0, 1]")
        return value

    @property
    def needs_counts(self) -> bool:
        """Whether the views rescale or resample counts."""
        return self.intensity_scale is not None or self.poisson_exposure is not None

    def largest_size(self) -> int:
        """The largest view side (local views count only when there are some)."""
        return max(self.global_size, self.local_size if self.n_local else 0)


class MultiCropViews:
    """Independent random views of a sample: the global views first, then `n_local` local ones.

    Each global view has its own pipeline; the local views share one, drawn again for each.
    Every pipeline ends with `to_tensor`, so a call returns a list of (C, h, w) tensors; with
    `with_masks` the views' invalid-pixel masks (bool (h, w) tensors, True = invalid, all False
    for a view without a mask) follow them in the same order. `plain` is the deterministic
    pipeline (resize to the global size, normalisation) used to embed whole frames, e.g. for
    monitoring.

    Args:
        global_views: one pipeline per global view.
        local_view: the pipeline of the local views (unused when `n_local` is 0).
        n_local: number of local views.
        plain: the deterministic pipeline.
        input_size: side of the global views (and of `plain`'s output) in pixels.
        needs_beam_center: whether the pipelines rotate about the beam centre.
        with_masks: also return the masks of the views.
    """

    def __init__(
        self,
        global_views: Sequence[Compose],
        local_view: Compose,
        n_local: int,
        plain: Compose,
        input_size: int,
        needs_beam_center: bool,
        with_masks: bool = False,
    ) -> None:
        self.global_views = list(global_views)
        self.local_view = local_view
        self.n_local = n_local
        self.plain = plain
        self.input_size = input_size
        self.needs_beam_center = needs_beam_center
        self.with_masks = with_masks

    def __call__(self, sample: Sample) -> list[torch.Tensor]:
        with warnings.catch_warnings():
            # A small crop inside a beam-stop shadow has no valid pixel: an expected, blank view.
            warnings.filterwarnings("ignore", r".*has no valid pixel", UserWarning)
            views = [pipeline(sample) for pipeline in self.global_views]
            views += [self.local_view(sample) for _ in range(self.n_local)]
        images = [view["image"] for view in views]
        if not self.with_masks:
            return images
        return [*images, *(view_mask(view) for view in views)]

    def set_random_state(self, seed: Seed) -> MultiCropViews:
        """Reseed every pipeline from its own child of `seed`."""
        sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        pipelines = [*self.global_views, self.local_view]
        for pipeline, child in zip(pipelines, sequence.spawn(len(pipelines)), strict=True):
            pipeline.set_random_state(child)
        return self


def view_mask(view: Sample) -> torch.Tensor:
    """The invalid pixels of a view as a bool (h, w) tensor; all False when it has no mask."""
    mask = view.get("mask")
    if mask is None:
        return torch.zeros(tuple(view["image"].shape[-2:]), dtype=torch.bool)
    return torch.from_numpy(np.ascontiguousarray(mask, dtype=bool))


def build_multicrop(
    options: ViewOptions,
    preprocess: Sequence[Mapping[str, Any]],
    n_global: int = 2,
    with_masks: bool = False,
) -> MultiCropViews:
    """The multi-crop views of frames cached by `preprocess` (the `data.preprocess` steps).

    Args:
        options: how the views are drawn.
        preprocess: the cached deterministic steps.
        n_global: number of global views.
        with_masks: the views come with their invalid-pixel masks (see `MultiCropViews`).

    Raises:
        ConfigError: counts-space changes are asked for but `preprocess` does not keep counts
            (or their logarithm as its last step).
    """
    offset = log_offset(preprocess) if options.needs_counts else None
    blur = options.blur_prob
    globals_ = [
        _view_spec(options, options.global_size, options.global_scale, blur[min(i, 1)], offset)
        for i in range(n_global)
    ]
    local = _view_spec(options, options.local_size, options.local_scale, blur[2], offset)
    plain = [{"name": "resize", "size": options.global_size}, *options.normalize]
    return MultiCropViews(
        [build_transforms(spec) for spec in globals_],
        build_transforms(local),
        options.n_local,
        build_transforms([*plain, {"name": "to_tensor"}]),
        input_size=options.global_size,
        needs_beam_center=options.rotate_degrees > 0,
        with_masks=with_masks,
    )


def log_offset(preprocess: Sequence[Mapping[str, Any]]) -> float | None:
    """The offset of a final `log` step of `preprocess`, or None when it keeps plain counts.

    Raises:
        ConfigError: a step that loses the counts, or a `log` that is not the last step.
    """
    names = [str(step.get("name")) for step in preprocess]
    lost = [name for name in names if name in COUNTS_LOST_BY]
    log_inside = "log" in names[:-1]
    if lost or log_inside:
        culprit = lost[0] if lost else "log"
        raise ConfigError(
            f"data.preprocess: '{culprit}' loses the counts that intensity scaling and Poisson "
            "resampling of the views need (only a final 'log' can be undone); move it to "
            "method.views.normalize or set method.views.intensity_scale and poisson_exposure "
            "to null"
        )
    if names and names[-1] == "log":
        return float(preprocess[-1].get("offset", 1.0))
    return None


def _view_spec(
    options: ViewOptions,
    size: int,
    scale: tuple[float, float],
    blur_prob: float,
    offset: float | None,
) -> list[dict[str, Any]]:
    """The transform specs of one view: geometry, counts, normalisation, contrast, blur."""
    crop = {
        "name": "rand_resized_crop",
        "size": size,
        "scale": scale,
        "ratio": options.ratio,
        "degrees": options.rotate_degrees,
        "flip": options.flip,
    }
    spec: list[dict[str, Any]] = [crop, *_counts_spec(options, offset)]
    spec += options.normalize
    if options.gamma is not None:
        low, high = options.gamma
        spec.append({"name": "rand_gamma", "low": low, "high": high, "prob": options.gamma_prob})
    if options.blur_sigma is not None and blur_prob > 0:
        low, high = options.blur_sigma
        spec.append({"name": "rand_blur", "low": low, "high": high, "prob": blur_prob})
    return [*spec, {"name": "to_tensor"}]


def _counts_spec(options: ViewOptions, offset: float | None) -> list[dict[str, Any]]:
    spec: list[dict[str, Any]] = []
    if options.intensity_scale is not None:
        low, high = options.intensity_scale
        spec.append({"name": "rand_intensity_scale", "low": low, "high": high})
    if options.poisson_exposure is not None:
        low, high = options.poisson_exposure
        spec.append(
            {"name": "rand_poisson", "low": low, "high": high, "prob": options.poisson_prob}
        )
    if spec and offset is not None:
        spec = [{"name": "unlog", "offset": offset}, *spec, {"name": "log", "offset": offset}]
    return spec
