"""The `scivit` command: a thin layer that parses arguments and calls library functions.

Every user-caused problem surfaces as one line, `scivit: error: ...`, and exit status 2
(1 when a bulk job finished but some inputs failed); `--debug` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scivit.config import parse_scalar
from scivit.errors import ConfigError, ScivitError
from scivit.registry import check_options

EXIT_ERROR = 2
EXIT_PARTIAL = 1


def extra_options(tokens: Sequence[str], function: Any, command: str) -> dict[str, Any]:
    """Turn `--some-option value` tokens into keyword arguments accepted by `function`."""
    options: dict[str, Any] = {}
    items = list(tokens)
    while items:
        token = items.pop(0)
        if not token.startswith("--"):
            raise ConfigError(f"{command}: unexpected argument '{token}'")
        key, sep, value = token[2:].partition("=")
        if not sep:
            value = items.pop(0) if items and not items[0].startswith("--") else "true"
        options[key.replace("-", "_")] = parse_scalar(value)
    check_options(function, [*options, "n", "seed", "workers"], command, given=1)
    return options


def cmd_simulate(args: argparse.Namespace, extra: list[str]) -> int:
    from scivit.simulate import SIMULATORS

    simulator = SIMULATORS.get(args.name)
    options = extra_options(extra, simulator, f"simulate {args.name}")
    manifest = simulator(Path(args.out), n=args.n, seed=args.seed, workers=args.workers, **options)
    print(f"wrote {args.n} frames; manifest: {manifest}")
    return 0


def cmd_train(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.recipe import load_recipe
    from scivit.train import train

    result = train(load_recipe(args.recipe, args.overrides))
    headline = {
        k: result.val_metrics.get(k)
        for k in ("f1_macro", "mAP", "accuracy")
        if result.val_metrics.get(k) is not None
    }
    print(f"run folder: {result.run_dir}")
    print(f"best checkpoint: {result.best_checkpoint}")
    print("validation: " + ", ".join(f"{k}={v:.4f}" for k, v in headline.items()))
    print(f"training time: {result.train_seconds / 60:.1f} min")
    return 0


def cmd_pretrain(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.pretrain import load_pretrain_recipe, pretrain

    result = pretrain(load_pretrain_recipe(args.recipe, args.overrides))
    print(f"run folder: {result.run_dir}")
    print(f"last checkpoint: {result.checkpoint}")
    print(f"backbone weights: {result.backbone}")
    for key, value in sorted(result.metrics.items()):
        print(f"{key}: {value:.4f}")
    return 0


def cmd_run(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.pipeline import StageResult, load_pipeline, run_pipeline

    def announce(result: StageResult) -> None:
        outputs = ", ".join(f"{key}={value}" for key, value in result.outputs.items())
        print(f"stage {result.name} ({result.run}) done: {outputs}", flush=True)

    run_pipeline(load_pipeline(args.recipe, args.overrides), on_stage=announce)
    return 0


def cmd_evaluate(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.evaluate.run import evaluate

    result = evaluate(
        args.checkpoint,
        split=args.split,
        out_dir=args.out,
        manifest=args.manifest,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        test_time_flips=args.test_time_flips,
    )
    metrics = result.metrics
    for key in ("f1_macro", "f1_micro", "mAP", "hamming_accuracy", "subset_accuracy", "accuracy"):
        if isinstance(metrics.get(key), float):
            print(f"{key}: {metrics[key]:.4f}")
    print(f"report: {result.report}")
    return 0


def _beam_center(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--beam-center '{text}' must be 'x,y' in pixels") from None
    return x, y


def cmd_predict(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.evaluate.predict import predict

    summary = predict(
        args.checkpoint,
        args.inputs,
        args.out,
        on_error=args.on_error,
        dataset=args.dataset,
        beam_center=_beam_center(args.beam_center),
        batch_size=args.batch_size,
    )
    print(f"tagged {summary.written} frames -> {summary.out_csv}")
    reasons = [f"{name}: {reason}" for name, reason in summary.failures]
    return _report_failures(reasons, "input(s) failed")


def _report_failures(reasons: Sequence[str], summary: str) -> int:
    """A bulk command's failed inputs on stderr, one line each, then their count followed by
    `summary`; returns the command's exit status."""
    for reason in reasons:
        print(f"scivit: failed: {reason}", file=sys.stderr)
    if reasons:
        print(f"scivit: {len(reasons)} {summary}", file=sys.stderr)
        return EXIT_PARTIAL
    return 0


def cmd_inspect(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.describe import format_inspection
    from scivit.io import inspect_file, read_image

    failed = 0
    for path in args.files:
        try:
            info = inspect_file(path, dataset=args.dataset, allow_pickle=args.allow_pickle)
            print(format_inspection(info))
            read_image(
                path,
                frame=0 if info["n_frames"] > 1 else None,
                dataset=args.dataset,
                allow_pickle=args.allow_pickle,
            )
        except ScivitError as err:
            failed += 1
            print(f"scivit: error: {one_line(err)}", file=sys.stderr)
    return 0 if not failed else (EXIT_ERROR if failed == len(args.files) else EXIT_PARTIAL)


def cmd_list(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.catalog import CATALOG

    if args.what is None:
        for name in CATALOG.names():
            print(name)
        return 0
    for name in CATALOG.get(args.what)(args.filter):
        print(name)
    return 0


def cmd_demo(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.demo import run_demo

    run_demo(
        Path(args.out),
        n=args.n,
        workers=args.workers,
        recipe=args.recipe,
        overrides=args.overrides,
        size=args.size,
    )
    return 0


def cmd_tune(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.recipe import load_recipe
    from scivit.tuning.search import tune

    result = tune(
        load_recipe(args.recipe, args.overrides),
        n_trials=args.n_trials,
        out_dir=Path(args.out),
        storage=args.storage,
        study_name=args.study_name,
        timeout=args.timeout,
    )
    states = ", ".join(f"{state.lower()} {count}" for state, count in sorted(result.states.items()))
    print(f"study {result.study_name}: {states}")
    print(f"best trial {result.best_trial}: {result.best_value:.4f} with {result.best_params}")
    print(f"best recipe: {result.best_recipe}")
    print(f"trials: {result.trials_csv}")
    return 0


def cmd_manifest(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.data.class_folders import manifest_from_class_folders

    classes = args.classes.split(",") if args.classes else None
    index = manifest_from_class_folders(
        args.root,
        args.out,
        classes=classes,
        allow_pickle=args.allow_pickle,
        progress=True,
        on_error=args.on_error,
    )
    print(f"manifest: {index.out_csv} ({index.rows} frames)")
    return _report_failures([reason for _, reason in index.failures], "file(s) left out")


def cmd_slurm(args: argparse.Namespace, _: list[str]) -> int:
    from scivit.slurm import SlurmJob, write_sbatch

    job = SlurmJob(
        nodes=args.nodes,
        gpus_per_node=args.gpus,
        time=args.time,
        cpus_per_task=args.cpus_per_task,
        partition=args.partition,
        account=args.account,
    )
    out = write_sbatch(args.recipe, args.overrides, job, args.out)
    print(f"wrote {out}; submit it with: sbatch {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scivit", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write a labelled synthetic dataset (frames + manifest)")
    p.add_argument("name", help="simulator name (see `scivit list simulators`)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--n", type=int, default=1000, help="number of frames")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=cmd_simulate, extra=True)

    p = sub.add_parser("train", help="train a recipe (name or YAML path) with dotted overrides")
    p.add_argument("recipe")
    p.add_argument("overrides", nargs="*", help="e.g. train.max_epochs=3 data.batch_size=64")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("tune", help="hyper-parameter search over a recipe's `tune:` space")
    p.add_argument("recipe")
    p.add_argument("overrides", nargs="*", help="dotted recipe overrides")
    p.add_argument("--n-trials", type=int, default=20, help="trials this worker runs")
    p.add_argument("--out", required=True, help="folder of trials, trials.csv, best-recipe.yaml")
    p.add_argument("--storage", help="database URL shared by workers (default: sqlite in --out)")
    p.add_argument("--study-name", help="default: the recipe name and a digest of its space")
    p.add_argument("--timeout", type=float, help="seconds after which no new trial starts")
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("manifest", help="index class folders of images into a manifest CSV")
    p.add_argument("root", help="folder with one sub-folder per class")
    p.add_argument("--out", required=True, help="manifest CSV to write")
    p.add_argument("--classes", help="comma-separated class folders (default: all)")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read pickled .npy object arrays (runs code from the file: trusted files only)",
    )
    p.add_argument(
        "--on-error",
        choices=("skip", "fail"),
        default="fail",
        help="a file that cannot be read stops the indexing (fail), or is left out and "
        "reported (skip)",
    )
    p.set_defaults(func=cmd_manifest)

    p = sub.add_parser("slurm", help="write an sbatch script that trains a recipe on SLURM nodes")
    p.add_argument("recipe")
    p.add_argument("overrides", nargs="*", help="dotted recipe overrides")
    p.add_argument("--out", required=True, help="sbatch script to write")
    p.add_argument("--nodes", type=int, default=1)
    p.add_argument("--gpus", type=int, default=1, help="GPUs per node (one task each)")
    p.add_argument("--time", default="04:00:00", help="time limit, HH:MM:SS or D-HH:MM:SS")
    p.add_argument("--cpus-per-task", type=int, default=8)
    p.add_argument("--partition")
    p.add_argument("--account")
    p.set_defaults(func=cmd_slurm)

    p = sub.add_parser(
        "pretrain", help="self-supervised pretraining (DINO, MAE) on unlabelled frames"
    )
    p.add_argument("recipe")
    p.add_argument("overrides", nargs="*", help="e.g. data.source=/beamtime/raw train.max_epochs=5")
    p.set_defaults(func=cmd_pretrain)

    p = sub.add_parser(
        "run", help="run a pipeline recipe: stages such as pretrain -> train -> evaluate"
    )
    p.add_argument("recipe")
    p.add_argument("overrides", nargs="*", help="<stage>.<key>=value, e.g. finetune.train.lr=1e-4")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("evaluate", help="metrics, figures and report.html for a checkpoint")
    p.add_argument("checkpoint", help="checkpoint file or run folder")
    p.add_argument("--split", default="test", help="train|val|test|all")
    p.add_argument("--manifest", help="evaluate every row of another manifest instead")
    p.add_argument("--out", help="output folder (default: <run>/eval-<split>)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--num-workers", type=int, default=None, help="loader processes (default: the recipe's)"
    )
    p.add_argument(
        "--test-time-flips",
        help="none, h (average logits over the frame and its left-right mirror), hv (over "
        "all four mirror images) or d4 (over the eight symmetries of a square frame); "
        "default: the recipe's model.test_time_flips",
    )
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="tag files, folders or stacks into a CSV")
    p.add_argument("checkpoint", help="checkpoint file or run folder")
    p.add_argument("inputs", nargs="+", help="files or folders")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--on-error", choices=("skip", "fail"), default="skip")
    p.add_argument("--dataset", help="HDF5 dataset path (default: the NeXus signal)")
    p.add_argument("--beam-center", help="x,y beam centre in pixels for every input")
    p.add_argument("--batch-size", type=int, default=32)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("inspect", help="show what the reader sees in files")
    p.add_argument("files", nargs="+")
    p.add_argument("--dataset", help="HDF5 dataset path")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read pickled .npy/.npz object arrays (runs code from the file: trusted files only)",
    )
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("list", help="list backbones, recipes, simulators, transforms, ...")
    p.add_argument("what", nargs="?", help="omit to see what can be listed")
    p.add_argument("--filter", help="wildcard filter, e.g. 'vit_*dinov2*'")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("demo", help="simulate, train, evaluate: the whole job on default data")
    p.add_argument("--out", default="scivit-demo", help="demo folder")
    p.add_argument("--n", type=int, default=15000, help="frames to simulate")
    p.add_argument("--size", type=int, default=128, help="simulated frame size in pixels")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--recipe", default="scatter-demo")
    p.add_argument("overrides", nargs="*", help="dotted recipe overrides")
    p.set_defaults(func=cmd_demo)
    return parser


def one_line(err: BaseException) -> str:
    """The error's message on one line (errors re-raised from DataLoader workers carry the
    worker's traceback; its last line holds the original message)."""
    lines = [line for line in str(err).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else type(err).__name__
    last = lines[-1]
    prefix = f"{type(err).__module__}.{type(err).__name__}: "
    return last.removeprefix(prefix)


def _show_warning(message: Any, category: type, filename: str, lineno: int, *_: Any) -> None:
    print(f"scivit: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scivit` console script; returns the exit status."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not args.debug:
        warnings.showwarning = _show_warning
        logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    try:
        return args.func(args, extra)
    except ScivitError as err:
        if args.debug:
            raise
        print(f"scivit: error: {one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as err:  # the file system refused: no space, no permission, a file in the way
        if args.debug:
            raise
        print(f"scivit: error: {one_line(err)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("scivit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
