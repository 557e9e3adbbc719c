"""`desk optimize`: search a strategy's parameters with backtests of the one engine.

    desk optimize --data SOURCE --strategy NAME --param NAME=LO:HI[:STEP] ... --method M
    desk optimize --resume ID          finish a stopped run (its finished trials are kept)
    desk optimize list                 stored runs
    desk optimize show ID [--apply]    one stored run (and apply its best parameters)
"""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from engine.errors import ConfigError, DeskError

SHOWN_METRICS = ("total_return", "sharpe", "sortino", "max_drawdown", "win_rate", "num_trades")


class Interrupted(DeskError):
    exit_code = 130


def run(args: argparse.Namespace) -> int:
    from desk.commands.output_paths import check_output_path
    from engine.config.schema import apply_cli_overrides, load_config

    cfg = apply_cli_overrides(load_config(args.config), args)
    console = Console()
    if not console.is_terminal:  # piped or redirected: whole table rows, for grep and logs
        console = Console(width=200)
    if args.action == "list":
        return _list(cfg, console)
    for option, path in (("--json", args.json), ("--report", args.report)):
        if path:
            check_output_path(path, option)
    if args.action == "show":
        if args.run_id is None:
            raise ConfigError("desk optimize show: give a run id (desk optimize list)")
        return _show(cfg, args, console)
    if args.run_id is not None:
        raise ConfigError(f"desk optimize: unexpected {args.run_id} (did you mean show?)")
    for flag, value, low in (("--trials", args.trials, 1), ("--workers", args.workers, 0)):
        if value is not None and value < low:
            raise ConfigError(f"{flag}: expected an integer >= {low}, got {value}")
    from desk.commands.backtest import _database_path, database_unwritable

    unwritable = database_unwritable(_database_path(cfg))
    if unwritable:
        raise ConfigError(unwritable)
    outcome = _optimize(cfg, args, console)
    document = outcome.document()
    print_outcome(console, document)
    _write_outputs(args, document, outcome.extras.get("_equity"))
    if args.apply:
        _apply(cfg, outcome.run_id, console)
    return 0


def _optimize(cfg, args, console):
    from engine.optimize.job import resume_optimization, run_optimization
    from engine.optimize.run import OptimizeRequest

    progress = _Progress(console)
    try:
        if args.resume is not None:
            return resume_optimization(cfg, args.resume, workers=args.workers,
                                       cluster=args.cluster, progress=progress)
        missing = [flag for flag, value in (("--data", args.data), ("--strategy", args.strategy),
                                            ("--method", args.method)) if not value]
        if missing:
            raise ConfigError(f"desk optimize: {', '.join(missing)} required"
                              " (or --resume ID, list, show ID)")
        if args.method != "qlearn" and not args.param:
            raise ConfigError("desk optimize: give at least one --param NAME=LO:HI[:STEP]")
        request = OptimizeRequest(
            data=args.data, strategy=args.strategy, params=tuple(args.param or ()),
            method=args.method, fitness=args.fitness, trials=args.trials, seed=args.seed,
            workers=args.workers, cluster=args.cluster, bars=args.bars, freq=args.freq,
            start=args.start, end=args.end, clean=args.clean)
        return run_optimization(cfg, request, progress=progress)
    except KeyboardInterrupt:
        progress.close()
        done = progress.stats.done if progress.stats else 0
        raise Interrupted(f"interrupted: {done:,} trials run and stored; continue with "
                          "desk optimize --resume ID (desk optimize list shows it)") from None
    finally:
        progress.close()


class _Progress:
    """A progress bar on a terminal: trials asked for out of those the method will ask
    (an estimate: GA may converge early), the best fitness so far and trials/s."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = None
        self.stats = None

    def __call__(self, stats) -> None:
        self.stats = stats
        if not self.console.is_terminal:
            return
        if self.live is None:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.live = Progress(TextColumn("optimize"), BarColumn(),
                                 TextColumn("{task.completed:,.0f}/{task.total:,.0f}"),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=self.console, transient=True)
            self.live.start()
            self.task = self.live.add_task("", total=max(stats.expected, 1))
        asked = stats.done + stats.reused
        self.live.update(self.task, total=max(stats.expected, asked, 1), completed=asked,
                         description=f"best {stats.best:.4f}  {stats.rate:.2f} trials/s")

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _fmt(name: str, value) -> str:
    if value is None:
        return "—"
    if name in ("total_return", "max_drawdown", "win_rate", "exposure", "annualized_return"):
        return f"{value * 100:,.2f}%"
    if name == "num_trades":
        return f"{int(value):,}"
    return f"{value:,.3f}"


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def print_outcome(console: Console, doc: dict) -> None:
    best = doc["best"]
    console.print(f"optimize #{doc['run_id']} {doc['strategy']} on {doc['source']} "
                  f"({doc['method']}, fitness {doc['fitness_name']}, seed {doc['seed']}): "
                  f"{doc['status']}", markup=False, highlight=False)
    if "policy" in doc:
        _print_policy(console, doc)
        return
    if "windows" in doc:
        _print_windows(console, doc)
    which = ("best parameters (in-sample)" if "windows" not in doc
             else "parameters in force at the end (last train window)")
    console.print(f"{which}: {_params(best['params'])}; fitness {best['fitness']:.4f}",
                  markup=False, highlight=False)
    console.print("  " + ", ".join(f"{n} {_fmt(n, best['metrics'].get(n))}"
                                   for n in SHOWN_METRICS), markup=False, highlight=False)
    if doc.get("posterior"):
        _print_posterior(console, doc)
    if doc.get("sensitivity"):
        _print_sensitivity(console, doc["sensitivity"], best["params"])
    timing = doc["timing"]
    console.print(f"{timing['trials_run']:,} trials run ({timing['trials_reused']:,} reused) in "
                  f"{timing['elapsed_s']:,.1f} s on {timing['workers']} worker(s): "
                  f"{timing['trials_per_s'] or 0:,.2f} trials/s", highlight=False)
    if "windows" not in doc and "request" in doc:
        console.print(f"rerun: {rerun_command(doc)}", markup=False, highlight=False)


def rerun_command(doc: dict) -> str:
    """The `desk --backtest` line that reruns the best parameters on the same data."""
    request = doc["request"]
    spec = f"{doc['strategy']}:" + ",".join(f"{k}={v!r}" for k, v in doc["best"]["params"].items())
    parts = ["desk --backtest --data", request["data"]]
    for name in ("bars", "seed", "freq", "start", "end"):
        if request.get(name) is not None:
            parts += [f"--{name}", str(request[name])]
    if request.get("clean"):
        parts.append("--clean")
    return " ".join([*parts, "--strategy", spec])


def _print_windows(console: Console, doc: dict) -> None:
    table = Table(title="Walk-forward: in-sample (train) against out-of-sample (test)",
                  header_style="bold")
    for column in ("#", "Train", "Test", "Parameters", "Adopted", "IS fitness", "OOS fitness",
                   "IS return", "OOS return", "OOS trades"):
        table.add_column(column, justify="left" if column in ("Train", "Test", "Parameters")
                         else "right")
    for i, w in enumerate(doc["windows"], 1):
        table.add_row(str(i), f"{w['train_start'][:10]}→{w['train_end'][:10]}",
                      f"{w['test_start'][:10]}→{w['test_end'][:10]}", _params(w["params"]),
                      "yes" if w["adopted"] else "no", f"{w['in_sample_fitness']:.3f}",
                      f"{w['out_of_sample_fitness']:.3f}",
                      _fmt("total_return", w["in_sample"].get("total_return")),
                      _fmt("total_return", w["out_of_sample"].get("total_return")),
                      _fmt("num_trades", w["out_of_sample"].get("num_trades")))
    console.print(table)
    oos = doc["out_of_sample"]
    m = oos["metrics"]
    console.print(
        f"in-sample fitness (mean of windows) {doc['in_sample']['fitness']:.4f}  |  "
        f"out-of-sample (stitched test windows) {oos['fitness']:.4f}: return "
        f"{_fmt('total_return', m.get('total_return'))}, Sharpe {_fmt('sharpe', m.get('sharpe'))}"
        f", max drawdown {_fmt('max_drawdown', m.get('max_drawdown'))}, "
        f"{_fmt('num_trades', m.get('num_trades'))} trades", highlight=False)


def _print_policy(console: Console, doc: dict) -> None:
    oos = doc["out_of_sample"]
    table = Table(title=f"Q-learning policy out of sample ({oos['start'][:10]} to "
                  f"{oos['end'][:10]}, {oos['steps']:,} steps; trained on the bars before)",
                  header_style="bold")
    for column in ("Follow", "Return", "Sharpe", "Exposure"):
        table.add_column(column, justify="left" if column == "Follow" else "right")
    rows = [("the learned policy", oos["policy"])] + list(oos["each_action"].items())
    for label, m in rows:
        table.add_row(label, _fmt("total_return", m["total_return"]), _fmt("sharpe", m["sharpe"]),
                      _fmt("exposure", m["exposure"]))
    console.print(table)
    console.print(f"policy over {len(doc['policy']['states'])} visited states stored in run "
                  f"{doc['run_id']} (desk optimize show {doc['run_id']} --json PATH); "
                  "returns before costs", highlight=False)
    console.print(f'to trade it: [ensemble] weights = "qlearn", qlearn_run = {doc["run_id"]}',
                  highlight=False, markup=False)


def _print_posterior(console: Console, doc: dict) -> None:
    table = Table(title=f"Posterior (MCMC, acceptance {doc['acceptance_rate']:.1%})",
                  header_style="bold")
    for column in ("Parameter", "Mean", "90% interval", "R-hat"):
        table.add_column(column, justify="right" if column != "Parameter" else "left")
    for name, post in doc["posterior"].items():
        if "mean" in post:
            table.add_row(name, f"{post['mean']:.4g}",
                          f"{post['ci90'][0]:.4g} – {post['ci90'][1]:.4g}", f"{post['rhat']:.3f}")
    console.print(table)


def _print_sensitivity(console: Console, sweeps: dict, best: dict) -> None:
    table = Table(title="Sensitivity (one parameter moves, the others at the best)",
                  header_style="bold")
    table.add_column("Parameter")
    table.add_column("value: fitness")
    for name, sweep in sweeps.items():
        cells = [(f"[{p['value']}: {p['fitness']:.3f}]" if p["value"] == best.get(name)
                  else f"{p['value']}: {p['fitness']:.3f}") for p in sweep]
        table.add_row(name, "  ".join(cells))
    console.print(table, markup=False, highlight=False)


def _write_outputs(args, document: dict, equity=None) -> None:
    from desk.commands.output_paths import write_atomically

    if args.json:
        write_atomically(args.json, json.dumps(document, indent=2, default=str) + "\n",
                         option="--json")
    if args.report:
        from engine.optimize.report import render

        write_atomically(args.report, render(document, equity), option="--report")


def _apply(cfg, run_id: int, console: Console) -> None:
    from engine.optimize.job import apply_best

    strategy, old, new = apply_best(cfg, run_id)
    if not new:
        console.print(f"--apply: {strategy} already runs these parameters; nothing changed",
                      highlight=False)
        return
    changes = ", ".join(f"{k} {old.get(k)} → {v}" for k, v in new.items())
    console.print(f"applied to {strategy} for the desk's next start: {changes} "
                  f"(audit params.changed, run {run_id})", markup=False, highlight=False)


def _list(cfg, console: Console) -> int:
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import list_runs

    store = open_store(cfg)
    try:
        runs = list_runs(store)
    finally:
        store.close()
    if not runs:
        console.print("no optimization runs stored")
        return 0
    table = Table(title="Optimization runs", header_style="bold")
    for column in ("ID", "Created", "Status", "Method", "Strategy", "Data", "Fitness",
                   "Trials", "Best"):
        table.add_column(column)
    for r in runs:
        best = r["best"]
        table.add_row(str(r["id"]), r["created_at"][:19], r["status"], r["method"], r["strategy"],
                      r["data_source"], r["fitness"], f"{r['trials']:,}",
                      f"{_params(best['params'])} ({best['fitness']:.4f})" if best else "—")
    console.print(table)
    return 0


def _show(cfg, args, console: Console) -> int:
    from engine.adapters.sqlite.open import open_store
    from engine.adapters.sqlite.optimization import load_run, load_trials

    store = open_store(cfg)
    try:
        run = load_run(store, args.run_id)
        trials = load_trials(store, args.run_id)
    finally:
        store.close()
    if run["result"] is None:
        console.print(f"optimization run {run['id']}: {run['status']}, {len(trials):,} trials "
                      f"stored; continue it with desk optimize --resume {run['id']}",
                      highlight=False)
        return 0
    document = dict(run["result"])
    document["trials"] = [{k: t[k] for k in ("scope", "params", "fitness", "metrics",
                                             "elapsed_s")} for t in trials]
    print_outcome(console, document)
    _write_outputs(args, document)
    if args.apply:
        _apply(cfg, args.run_id, console)
    return 0
