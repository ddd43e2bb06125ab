"""Transform base classes and `Compose`.

A transform is a callable ``sample -> sample`` returning a new dict and leaving its input
untouched. Random transforms own a `numpy.random.Generator`; `set_random_state(seed)` reseeds
one transform, or every random transform inside a `Compose`, so a seed fixes the output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from scivit.errors import ConfigError
from scivit.transforms.sample import Sample

Seed = int | np.random.SeedSequence | None


class Transform(ABC):
    """A deterministic callable on samples."""

    @abstractmethod
    def __call__(self, sample: Sample) -> Sample:
        """Return the transformed sample (a new dict)."""

    @property
    def name(self) -> str:
        """Name used in error messages."""
        return type(self).__name__


class RandomTransform(Transform):
    """A transform that draws from its own generator and applies itself with probability `prob`.

    Args:
        prob: probability of applying the transform to a sample.
        seed: seed of the transform's generator (None: fresh entropy).
    """

    def __init__(self, prob: float = 1.0, seed: int | None = None) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ConfigError(f"{self.name}: prob must be in [0, 1], got {prob}")
        self.prob = prob
        self.set_random_state(seed)

    def set_random_state(self, seed: Seed) -> RandomTransform:
        """Reseed the generator; the same seed gives the same sequence of outputs."""
        self.rng = np.random.default_rng(seed)
        return self

    def _draw_apply(self) -> bool:
        return bool(self.rng.random() < self.prob)


class Compose(Transform):
    """Apply transforms in order."""

    def __init__(self, transforms: Sequence[Callable[[Sample], Sample]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, sample: Sample) -> Sample:
        for transform in self.transforms:
            sample = transform(sample)
        return sample

    def set_random_state(self, seed: Seed) -> Compose:
        """Reseed every random transform inside, each from its own child of `seed`."""
        random = [t for t in self.transforms if hasattr(t, "set_random_state")]
        sequence = (
            seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        )
        for transform, child in zip(random, sequence.spawn(len(random)), strict=True):
            transform.set_random_state(child)
        return self

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Callable[[Sample], Sample]:
        return self.transforms[index]

    def __iter__(self) -> Iterator[Callable[[Sample], Sample]]:
        return iter(self.transforms)

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"
