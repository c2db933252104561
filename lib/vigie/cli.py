"""The `vigie` command: one sub-command per stage, each a thin wrapper over a library function.

    vigie generate --out DIR --tweets N --seed S
    vigie ingest INPUT... --lakehouse DIR
    vigie bots --lakehouse DIR
    vigie anomalies --lakehouse DIR
    vigie communities --lakehouse DIR
    vigie block --blocklist FILE [--execute]
    vigie pipeline --lakehouse DIR [--demo | INPUT...]
    vigie setup

Errors a user can cause are printed as one line (`vigie: error: ...`) with exit code 2.
The same `main()` serves the console script, `jobs/*.py` under spark-submit and Databricks tasks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence

from vigie.config import Config, load_config
from vigie.errors import ConfigError, VigieError
from vigie.paths import is_uri


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--conf", help="YAML configuration file (default: conf/vigie.yaml when present)")
    common.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override one setting")
    common.add_argument("--master", help="Spark master for local runs (ignored under spark-submit/Databricks)")
    tracked = argparse.ArgumentParser(add_help=False)  # the stages that log to MLflow
    tracked.add_argument("--tracking-uri", help="MLflow tracking URI (default from conf, else $MLFLOW_TRACKING_URI)")

    p = argparse.ArgumentParser(prog="vigie", description="Anomalies, bots, communities and audiences in tweet dumps.")
    sub = p.add_subparsers(dest="stage", required=True, metavar="STAGE")

    g = sub.add_parser("generate", parents=[common], help="write a demo tweet dump with known truth")
    g.add_argument("--out", required=True, help="folder to write the dump and _truth.json into")
    g.add_argument("--tweets", type=int, help="number of tweets (default from conf)")
    g.add_argument("--seed", type=int, help="random seed (default from conf)")
    g.add_argument("--files", type=int, help="number of files, written in parallel")
    g.add_argument("--format", choices=["v1.1", "v2"], help="v1.1 statuses or v2 pages")
    g.add_argument("--compression", choices=["none", "gzip", "bz2"])

    i = sub.add_parser("ingest", parents=[common], help="tweet JSON files/folders -> Delta silver tables")
    i.add_argument("inputs", nargs="+", help="files or folders of JSON lines (.json, .jsonl, .gz, .bz2)")
    i.add_argument("--lakehouse", required=True, help="lakehouse root folder (local path or URI)")
    i.add_argument("--split-mb", type=int, help="byte-range split size for plain files")

    b = sub.add_parser(
        "bots", parents=[common, tracked], help="bot features, LightGBM scores and a block list (Study B)"
    )
    b.add_argument("--lakehouse", required=True)

    a = sub.add_parser(
        "anomalies", parents=[common, tracked], help="anomalous windows, their drivers and exploration tables (Study A)"
    )
    a.add_argument("--lakehouse", required=True)
    a.add_argument("--window", help="activity window, e.g. '1 hour' or '15 minutes' (default from conf)")
    a.add_argument("--exclude", help="comma-separated hashtags to exclude (default from conf: worldcup)")
    a.add_argument("--trials", type=int, help="Optuna trials for the Isolation Forest (default from conf: 10)")

    c = sub.add_parser(
        "communities", parents=[common, tracked], help="hashtag and user communities with stability (Study A)"
    )
    c.add_argument("--lakehouse", required=True)
    c.add_argument("--min-support", type=int, help="tweets a hashtag pair needs together (default from conf: 3)")
    c.add_argument("--seeds", type=int, help="runs per method for the stability scores (default from conf: 5)")

    bl = sub.add_parser("block", help="block the accounts of a block list (dry run unless --execute)")
    bl.add_argument("--blocklist", required=True, help="CSV written by `vigie bots` (LAKEHOUSE/exports/blocklist.csv)")
    bl.add_argument("--execute", action="store_true", help="really block, through the X/Twitter API")
    bl.add_argument("--audit", help="JSON-lines audit log (default: BLOCKLIST.audit.jsonl); also drives resume")
    bl.add_argument("--api-host", help="API host (default $VIGIE_X_API_HOST or api.twitter.com)")
    bl.add_argument("--min-score", type=float, default=0.0, help="only accounts scoring at least this")
    bl.add_argument("--limit", type=int, help="at most this many accounts, best scores first")

    pl = sub.add_parser("pipeline", parents=[common, tracked], help="run every stage in order")
    pl.add_argument("inputs", nargs="*", help="files or folders to ingest")
    pl.add_argument("--lakehouse", required=True)
    pl.add_argument("--demo", action="store_true", help="generate the demo dump into LAKEHOUSE/raw first")

    sub.add_parser("setup", parents=[common], help="check the pinned stack and download the JVM jars once")
    sub.add_parser("packages", help="print the spark-submit flags that bring in the pinned jars")
    return p


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _spark(cfg: Config, args: argparse.Namespace, stage: str | None = None):
    """The session for one stage, loading only the JVM libraries it uses; None: every stage's."""
    from vigie import versions
    from vigie.session import get_spark

    master = args.master or os.environ.get("VIGIE_SPARK_MASTER") or cfg.spark.master
    spark = get_spark(
        app_name=cfg.spark.app_name,
        master=master,
        shuffle_partitions=cfg.spark.shuffle_partitions,
        driver_memory=cfg.spark.driver_memory,
        libraries=versions.STAGE_JVM_LIBS[stage] if stage else versions.DEFAULT_JVM_LIBS,
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _check_lakehouse(path: str) -> None:
    if is_uri(path):
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the lakehouse folder {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK):
        raise ConfigError(f"the lakehouse folder {path} is not writable")


def run_generate(cfg: Config, args: argparse.Namespace) -> dict:
    from vigie.generate import generate

    g = cfg.generate
    return generate(
        args.out,
        tweets=args.tweets or g.tweets,
        seed=g.seed if args.seed is None else args.seed,
        files=args.files or g.files,
        fmt=args.format or g.format,
        compression=args.compression or g.compression,
        progress=_say,
    )


def run_ingest(cfg: Config, args: argparse.Namespace, inputs: Sequence[str], stage: str | None = "ingest") -> dict:
    """`stage=None` starts the session with every stage's jars, for the stages that follow (the pipeline)."""
    from vigie.ingest.job import ingest
    from vigie.ingest.reader import list_input_files

    _check_lakehouse(args.lakehouse)
    files = list_input_files(list(inputs))  # fail on bad paths before starting Spark
    _say(f"ingest: {len(files)} file(s) -> {args.lakehouse}")
    started = time.time()
    spark = _spark(cfg, args, stage)
    split_mb = getattr(args, "split_mb", None) or cfg.ingest.split_mb
    result = ingest(spark, list(inputs), args.lakehouse, split_bytes=split_mb << 20)
    _say(f"ingest: done in {time.time() - started:.1f}s")
    return {"run_id": result.run_id, **result.counts}


def run_bots_stage(cfg: Config, args: argparse.Namespace) -> dict:
    from vigie.bots import run_bots

    _check_lakehouse(args.lakehouse)
    started = time.time()
    result = run_bots(_spark(cfg, args, "bots"), args.lakehouse, cfg.bots, cfg.mlflow)
    took = time.time() - started
    _say(f"bots: {result['blocklisted']} accounts flagged, block list in {result['blocklist']} ({took:.1f}s)")
    return result


def run_anomalies_stage(cfg: Config, args: argparse.Namespace) -> dict:
    from vigie.anomalies.stage import run_anomalies

    a = cfg.anomalies
    a.window = getattr(args, "window", None) or a.window
    a.exclude_hashtags = a.exclude_hashtags if getattr(args, "exclude", None) is None else args.exclude
    a.trials = getattr(args, "trials", None) or a.trials
    _check_lakehouse(args.lakehouse)
    started = time.time()
    result = run_anomalies(_spark(cfg, args, "anomalies"), args.lakehouse, a, cfg.mlflow)
    took = time.time() - started
    _say(f"anomalies: {result['anomalous_windows']} of {result['windows']} windows anomalous ({took:.1f}s)")
    return result


def run_communities_stage(cfg: Config, args: argparse.Namespace) -> dict:
    from vigie.communities.stage import run_communities

    c = cfg.communities
    c.min_support = getattr(args, "min_support", None) or c.min_support
    c.seeds = getattr(args, "seeds", None) or c.seeds
    _check_lakehouse(args.lakehouse)
    started = time.time()
    result = run_communities(
        _spark(cfg, args, "communities"), args.lakehouse, c, cfg.anomalies.exclude_hashtags, cfg.mlflow
    )
    took = time.time() - started
    found = ", ".join(f"{k}: {v.get('communities', 0):.0f}" for k, v in result["methods"].items())
    _say(f"communities: {found} communities ({took:.1f}s)")
    return result


def configure(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, Config]:
    """Parse the command line and load the configuration, with the command-line overrides applied."""
    args = _parser().parse_args(argv)
    cfg = load_config(getattr(args, "conf", None), getattr(args, "set", []))
    if getattr(args, "tracking_uri", None):
        cfg.mlflow.tracking_uri = args.tracking_uri
    return args, cfg


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args, cfg = configure(argv)
        if args.stage == "packages":
            from vigie.session import submit_flags

            print(submit_flags())
            return 0
        if args.stage == "block":
            from vigie.block import main_block

            return main_block(args)
        if args.stage == "setup":
            from vigie import versions
            from vigie.session import resolve_jars

            problems = versions.check_stack()
            for line in problems:
                _say(f"vigie: stack: {line}")
            for coord in resolve_jars():
                _say(f"jar ready: {coord}")
            return 1 if problems else 0
        if args.stage == "generate":
            truth = run_generate(cfg, args)
            print(json.dumps({"out": args.out, **truth["expected"]}))
        elif args.stage == "ingest":
            print(json.dumps(run_ingest(cfg, args, args.inputs)))
        elif args.stage == "bots":
            print(json.dumps(run_bots_stage(cfg, args), default=str))
        elif args.stage == "anomalies":
            print(json.dumps(run_anomalies_stage(cfg, args), default=str))
        elif args.stage == "communities":
            print(json.dumps(run_communities_stage(cfg, args), default=str))
        elif args.stage == "pipeline":
            from vigie.tracking import tracking_uri

            tracking_uri(cfg.mlflow, args.lakehouse)  # before generating and ingesting, not three stages later
            inputs = list(args.inputs)
            if args.demo and is_uri(args.lakehouse):
                raise ConfigError(
                    "--demo writes its dump as files under the lakehouse, so it needs a local lakehouse; "
                    "for a URI lakehouse, run `vigie generate --out PATH` (a path every executor sees) "
                    "and pass PATH as the pipeline's INPUT"
                )
            if not inputs and not args.demo:
                raise ConfigError("pipeline needs INPUT files/folders, or --demo to generate the demo dump")
            from vigie.bots import check_config as check_bots_config

            check_bots_config(_spark(cfg, args), cfg.bots)  # the last stage's settings, before the first stage
            if args.demo:
                raw = os.path.join(args.lakehouse, "raw")
                gen_args = argparse.Namespace(
                    out=raw, tweets=None, seed=None, files=None, format=None, compression=None
                )
                run_generate(cfg, gen_args)
                inputs.append(raw)
            print(json.dumps({"stage": "ingest", **run_ingest(cfg, args, inputs, stage=None)}), flush=True)
            print(json.dumps({"stage": "anomalies", **run_anomalies_stage(cfg, args)}, default=str), flush=True)
            print(json.dumps({"stage": "communities", **run_communities_stage(cfg, args)}, default=str), flush=True)
            print(json.dumps({"stage": "bots", **run_bots_stage(cfg, args)}, default=str), flush=True)
        return 0
    except VigieError as exc:
        print(f"vigie: error: {exc}", file=sys.stderr)
        return 2


def entrypoint() -> None:
    """Console-script and job entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
