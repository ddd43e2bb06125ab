"""The demo: simulate scattering frames, train the demo recipe, evaluate, point at the report.

Each stage is skipped when its output already exists, so an interrupted demo resumes.
"""

from __future__ import annotations

import time
from pathlib import Path

from scivit.evaluate.run import EvaluationResult, evaluate
from scivit.recipe import load_recipe
from scivit.simulate import SIMULATORS
from scivit.train import train


def run_demo(
    out: Path,
    n: int = 15000,
    workers: int = 2,
    recipe: str = "scatter-demo",
    overrides: list[str] | None = None,
    size: int = 128,
) -> EvaluationResult:
    """Run the whole job on simulated data and return the test-split evaluation."""
    start = time.perf_counter()
    data_dir = out / "data"
    manifest = data_dir / "manifest.csv"
    if not manifest.is_file():
        print(f"[1/3] simulating {n} scattering frames of {size}x{size} px into {data_dir}")
        SIMULATORS.get("scattering")(data_dir, n=n, seed=0, workers=workers, size=size)
    else:
        print(f"[1/3] using the frames already in {data_dir}")
    print(f"[2/3] training recipe '{recipe}'")
    chosen = load_recipe(
        recipe, [f"data.manifest={manifest}", f"train.out_dir={out / 'runs'}", *(overrides or [])]
    )
    result = train(chosen)
    print("[3/3] evaluating on the test split")
    evaluation = evaluate(result.best_checkpoint, split="test", out_dir=out / "evaluation")
    minutes = (time.perf_counter() - start) / 60
    metrics = evaluation.metrics
    print(
        f"test macro-F1 {metrics['f1_macro']:.3f}, micro-F1 {metrics['f1_micro']:.3f}, "
        f"mAP {metrics['mAP']:.3f} over {metrics['n_frames']} frames ({minutes:.1f} min)"
    )
    print(f"report: {evaluation.report.resolve()}")
    return evaluation
