"""Hyper-parameter search over any scivit recipe with Optuna (Akiba et al., KDD 2019).

- `space`: the recipe's `tune:` section (search space, metric, sampler, pruner) and how a
  trial's parameters become a complete recipe.
- `strategies`: samplers and pruners found by name (ASHA, Hyperband, median, ...).
- `callbacks`: the Lightning callbacks that report a trial's metric and prune it.
- `storage`: the study shared by every worker (sqlite file or a database URL).
- `report`: `trials.csv` and the best trial as a recipe.
- `search`: `tune(recipe, n_trials, out_dir, ...)`, the function behind `scivit tune`.

This package imports nothing on load, so `scivit.recipe` can use `space` without a cycle.
"""
