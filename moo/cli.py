"""The ``moo`` command line.

    moo list [problems|algorithms]
    moo info PROBLEM
    moo check PROBLEM            (a user's module:Class or path/to/file.py:Class)
    moo solve --problem NAME --algorithm NAME --budget N [--max-steps K] [--max-seconds T]
              [--target hv=0.66] [--workers W [--ray]] [--seed S] [--out DIR] [--device D]
    moo resume DIR [--workers W]
    moo plot DIR [--html]
    moo sample DIR --pref 0.3,0.7
    moo demo [--out DIR]
    moo bench --suite NAME|FILE [--store runs.db] [--workers N] [--ray [ADDRESS]] [--report DIR]
    moo report STORE [--suite NAME] --out DIR

Bad input prints ``error: ...`` and exits with status 2; no traceback for moo's own errors.
"""
from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import sys
from pathlib import Path

from moo.errors import MooError, MooValueError

DEMO = {"problem": "zdt1", "algorithm": "psl", "budget": 10_000, "seed": 0}


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _options(pairs: list[str] | None, what: str) -> dict:
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise MooValueError(f"{what} must look like key=value, got {pair!r}")
        out[key.replace("-", "_")] = _parse_value(value)
    return out


def _cmd_list(args) -> None:
    from moo.registry import names

    kinds = [args.kind[:-1]] if args.kind else ["problem", "algorithm", "suite"]
    for kind in kinds:
        print(f"{kind}s:")
        if kind == "suite":  # the shipped benchmark suites (`moo bench --suite NAME`), with their descriptions
            from moo.bench import suite_descriptions

            descriptions = suite_descriptions()
            width = max(map(len, descriptions), default=0)
            for name, description in descriptions.items():
                print(f"  {name:<{width}}  {description}".rstrip())
            continue
        for name in names(kind):
            print(f"  {name}")


def _cmd_info(args) -> None:
    from moo.registry import get_problem

    problem = get_problem(args.problem, **_options(args.option, "--option"))
    info = problem.describe()
    front = problem.pareto_front()
    info["reference_front"] = None if front is None else f"{front.shape[0]} points"
    for key, value in info.items():
        if isinstance(value, list) and len(value) > 8:
            value = f"{value[:4]} ... ({len(value)} values)"
        print(f"{key:>16}: {value}")


def _cmd_check(args) -> None:
    from moo.check import check_problem, worst
    from moo.registry import get_problem

    problem = get_problem(args.problem, **_options(args.option, "--option"))
    findings = check_problem(problem, n=args.points, seed=args.seed)
    for finding in findings:
        print(finding)
    level = worst(findings)
    if level == "error":
        raise MooValueError(f"{args.problem}: the check found errors (above); fix them before a run")
    print(f"{args.problem}: {'no problems found' if level in ('ok', 'note') else 'usable, with the warnings above'}")


def _finish(result, out: Path | None, trust: bool = False) -> None:
    print(result.summary())
    if out is not None:
        png = out / "front.png"
        result.plot(png, trust=trust)
        print(f"result saved to {out}/ ; front plot: {png}")


def _cmd_solve(args) -> None:
    from moo.registry import get_problem
    from moo.solve import solve

    problem = get_problem(args.problem, normalize=args.normalize, **_options(args.problem_option, "--problem-option"))
    out = Path(args.out) if args.out else None
    result = solve(problem, args.algorithm, budget=args.budget, termination=_termination(args), seed=args.seed,
                   device=args.device, out=out, workers=args.workers, backend="ray" if args.ray else "process",
                   overwrite=args.overwrite, checkpoint_every=args.checkpoint_every if out else None,
                   checkpoint_seconds=args.checkpoint_seconds if out else None,
                   **_options(args.option, "--option"))
    _finish(result, out, trust=True)  # the problem was named on this command line, not read from a file


def _termination(args):
    """The rule of ``--max-steps``, ``--max-seconds`` and ``--target NAME=VALUE`` (any of them
    stops the run, as does ``--budget``), or ``None``."""
    from moo.termination import IndicatorTarget, MaxSteps, MaxTime

    rules = []
    if args.max_steps is not None:
        rules.append(MaxSteps(args.max_steps))
    if args.max_seconds is not None:
        rules.append(MaxTime(args.max_seconds))
    for text in args.target or ():
        name, sep, value = text.partition("=")
        try:
            rules.append(IndicatorTarget(name.strip(), float(value)))
        except ValueError:
            raise MooValueError(f"--target must look like hv=0.66 (indicator=value), got {text!r}") from None
        if not sep:
            raise MooValueError(f"--target must look like hv=0.66 (indicator=value), got {text!r}")
    if not rules:
        return None
    rule = rules[0]
    for other in rules[1:]:
        rule = rule | other
    return rule


def _cmd_resume(args) -> None:
    from moo.solve import resume

    result = resume(args.run, trust=args.trust, workers=args.workers, backend="ray" if args.ray else "process")
    _finish(result, Path(args.run), trust=args.trust)


def _cmd_plot(args) -> None:
    from moo.result import Result

    result = Result.load(args.run)
    suffix = "html" if args.html else "png"
    front = Path(args.run) / f"front.{suffix}"
    result.plot(front, html=args.html, trust=args.trust)
    written = [front]
    if any(r.get("hv") is not None for r in result.history):
        conv = Path(args.run) / f"convergence.{suffix}"
        result.plot(conv, kind="convergence", html=args.html)
        written.append(conv)
    print("wrote " + ", ".join(map(str, written)))


def _cmd_sample(args) -> None:
    import torch

    from moo.result import Result

    result = Result.load(args.run)
    prefs = []
    for text in args.pref:
        try:
            prefs.append([float(v) for v in text.split(",")])
        except ValueError:
            raise MooValueError(f"--pref must be comma-separated numbers like 0.3,0.7, got {text!r}") from None
    P = torch.tensor(prefs, dtype=torch.float64)
    m = result.F.shape[1]
    if P.shape[1] != m or bool((P < 0).any()) or bool((P.sum(1) <= 0).any()):
        raise MooValueError(f"--pref needs {m} non-negative weights with a positive sum, got {args.pref}")
    P = P / P.sum(1, keepdim=True)
    X = result.pareto_set(P, trust=args.trust)
    F = result.problem(trust=args.trust).evaluate(X)
    for p, x, f in zip(P.tolist(), X.tolist(), F.tolist()):
        print(json.dumps({"pref": [round(v, 6) for v in p], "x": x, "f": f}))


def _cmd_demo(args) -> None:
    import torch

    from moo.indicators import Evaluator
    from moo.registry import get_problem
    from moo.solve import solve

    out = Path(args.out)
    print(f"demo: Pareto-set learning ({DEMO['algorithm']}) on {DEMO['problem']}, "
          f"{DEMO['budget']} evaluations, seed {DEMO['seed']}")
    problem = get_problem(DEMO["problem"])
    result = solve(problem, DEMO["algorithm"], budget=DEMO["budget"], seed=DEMO["seed"], out=out, device="cpu",
                   overwrite=True)  # the demo's own folder: a second `make demo` replaces it
    _finish(result, out)
    ev = Evaluator.for_problem(problem)
    front_hv = ev.hypervolume(problem.pareto_front(1000))
    print(f"reference front hypervolume: {front_hv:.6g}; found {ev.hypervolume(result.F) / front_hv:.2%} of it")
    prefs = torch.tensor([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]], dtype=torch.float64)
    F = problem.evaluate(result.pareto_set(prefs))
    print("the learned model, asked for three preferences:")
    for p, f in zip(prefs.tolist(), F.tolist()):
        print(f"  preference {p} -> objectives [{f[0]:.4f}, {f[1]:.4f}]")


def _cmd_bench(args) -> None:
    from moo.bench import load_suite, run_suite

    suite = load_suite(args.suite)
    summary = run_suite(suite, args.store, workers=args.workers, ray=args.ray is not None,
                        ray_address=args.ray or None)
    print(f"suite {summary.suite}: {summary.n_cells} cells, {summary.n_skipped} already stored, "
          f"{summary.n_run} run now, {len(summary.failures)} failed; store: {summary.store}")
    for label, error in summary.failures:
        print(f"  failed: {label}: {error}", file=sys.stderr)
    if args.report:
        from moo.report import write_report

        workers = f" --workers {args.workers}" if args.workers > 1 else ""
        command = f"moo bench --suite {args.suite} --store {args.store}{workers} --report {args.report}"
        written = write_report(args.store, args.report, suite=suite.name, command=command)
        print(f"report: {written['markdown']}, {written['html']}")
    if summary.failures:
        raise MooValueError(f"{len(summary.failures)} of {summary.n_cells} cells failed (listed above) and were not "
                            "stored; re-run the same command to retry them")


def _cmd_report(args) -> None:
    from moo.report import write_report

    command = f"moo report {args.store}{f' --suite {args.suite}' if args.suite else ''} --out {args.out}"
    written = write_report(args.store, args.out, suite=args.suite, command=command, trust=args.trust)
    print(f"report: {written['markdown']}, {written['html']}")


def _trust_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust", action="store_true",
                        help="allow importing a user's own module:Class named in the stored data (runs its code)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moo", description="Multi-objective optimization and Pareto-set learning")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list registered problems, algorithms or shipped benchmark suites")
    p.add_argument("kind", nargs="?", choices=["problems", "algorithms", "suites"])
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("info", help="describe a problem")
    p.add_argument("problem")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="problem option, e.g. n_var=10")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("check", help="try a problem (yours: module:Class or file.py:Class) on a few random points")
    p.add_argument("problem")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="problem option, e.g. n_var=10")
    p.add_argument("--points", type=int, default=8, help="random points to evaluate (default 8)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("solve", help="run an algorithm on a problem")
    p.add_argument("--problem", required=True, help="registered name, module:Class or path/to/file.py:Class")
    p.add_argument("--algorithm", required=True, help="registered name or module:Class")
    p.add_argument("--budget", type=int, help="true evaluations (a run needs this or another stopping rule)")
    p.add_argument("--max-steps", type=int, help="stop after this many solver steps")
    p.add_argument("--max-seconds", type=float, help="stop after this much wall time")
    p.add_argument("--target", action="append", metavar="INDICATOR=VALUE",
                   help="stop once an indicator reaches a value, e.g. hv=0.66 or igd_plus=0.01 (repeatable)")
    _workers_flags(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="run folder (result, checkpoints)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if available)")
    p.add_argument("--checkpoint-every", type=int, default=None, help="steps between checkpoints (with --out)")
    p.add_argument("--checkpoint-seconds", type=float, default=10.0,
                   help="also checkpoint when this much time has passed since the last (with --out)")
    p.add_argument("--normalize", action="store_true", help="map objectives by ideal/nadir to [0, 1]")
    p.add_argument("--problem-option", action="append", metavar="KEY=VALUE")
    p.add_argument("--option", action="append", metavar="KEY=VALUE", help="algorithm config override")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a finished result or an unfinished run already in --out")
    p.set_defaults(func=_cmd_solve)

    p = sub.add_parser("resume", help="finish an interrupted run from its checkpoint")
    p.add_argument("run")
    _trust_flag(p)
    _workers_flags(p)
    p.set_defaults(func=_cmd_resume)

    p = sub.add_parser("plot", help="plot a saved result (front and convergence)")
    p.add_argument("run")
    p.add_argument("--html", action="store_true", help="interactive HTML instead of PNG")
    _trust_flag(p)
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("sample", help="solutions of a learned Pareto-set model for given preferences")
    p.add_argument("run")
    p.add_argument("--pref", action="append", required=True, help="weights, e.g. 0.3,0.7 (repeatable)")
    _trust_flag(p)
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("demo", help="run the default job and plot it")
    p.add_argument("--out", default="demo_out")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("bench", help="run a benchmark suite into a result store (resumes where it stopped)")
    p.add_argument("--suite", required=True, help="a shipped suite name (smoke, synthetic, ...) or a TOML file")
    p.add_argument("--store", default="runs.db", help="SQLite result store (default: runs.db)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (default 1: in this process)")
    p.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the cells as Ray tasks, on ADDRESS or a local Ray instance")
    p.add_argument("--report", metavar="DIR", help="write the suite's report into DIR afterwards")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("report", help="tables, plots and an HTML page from a result store")
    p.add_argument("store", help="SQLite result store written by `moo bench`")
    p.add_argument("--suite", help="the suite to report (needed when the store holds several)")
    p.add_argument("--out", required=True, help="output folder")
    _trust_flag(p)
    p.set_defaults(func=_cmd_report)
    return parser


def _workers_flags(p) -> None:
    p.add_argument("--workers", type=int, default=1,
                   help="evaluate each asked batch on this many processes (same result as 1)")
    p.add_argument("--ray", action="store_true", help="with --workers, evaluate as Ray tasks instead")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if "" not in sys.path and os.getcwd() not in sys.path:  # `module:Class` finds a module in this folder,
        sys.path.insert(0, os.getcwd())                      # as `python -m` does
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    try:
        args.func(args)
    except MooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the file system's own refusal (disk full, permissions): one line, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; a run with --out can be finished with `moo resume DIR`", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
