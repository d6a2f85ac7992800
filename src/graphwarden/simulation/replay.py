"""The quiz-2014 replay: the same population and installers under each platform version.

Each version runs on its own fresh store (a SQLite file under the output directory) holding
the same population, with the same installers in the same order, so runs are comparable.

* ``engine="api"``: every installer goes through sign-in, the consent screen and the token
  endpoint, and the quiz reads through the HTTP Graph API, which records every disclosure in
  the store's ledger before answering. The server is reached through an ``httpx.Client``
  the caller provides (:data:`HttpFactory`; in-process by default, loopback works alike).
* ``engine="bulk"``: :mod:`graphwarden.simulation.bulk_engine` decides the same requests with
  the policy's bulk face and writes them as a Parquet ledger with its Merkle root.

Either way the run's ledger is exported to Parquet and :mod:`graphwarden.analytics.exposure`
computes the summary from it; nothing here counts exposure itself.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
import numpy as np
from sqlalchemy import Engine

from graphwarden.analytics.exposure import (
    ExposureRun,
    GrowthCurve,
    export_ledger,
    exposure_run,
    growth_curve,
    write_people,
)
from graphwarden.core.clock import Clock, ManualClock
from graphwarden.core.db import create_store_engine, upgrade
from graphwarden.core.errors import InvalidInput, StoreError
from graphwarden.core.types import API_VERSIONS, ApiVersion
from graphwarden.ledger.records import to_micros
from graphwarden.simulation.agents import BENIGN, QuizHarvester
from graphwarden.simulation.bulk_engine import INSTALL_INTERVAL_US, run_bulk
from graphwarden.simulation.scenarios import ReplayPopulation, choose_installers

Engine_ = Literal["api", "bulk"]
#: ``(engine, data_dir, clock) -> context manager yielding an httpx.Client on the server``
HttpFactory = Callable[[Engine, Path, Clock], AbstractContextManager[httpx.Client]]
#: ``(stage, steps done, steps in all)``: a stage is a version (steps: installers) or
#: :data:`STORE_STAGE` while the api engine loads the population into its template store
Progress = Callable[[str, int, int], None]
STORE_STAGE = "store"

#: the replay's clock starts where the 2014 harvest did
REPLAY_START = datetime(2014, 6, 1, 9, tzinfo=UTC)
SCENARIO = "quiz-2014"


@dataclass(frozen=True)
class ReplayConfig:
    """What to replay and where to write it."""

    out: Path
    seed: int
    installers: int
    versions: tuple[ApiVersion, ...] = API_VERSIONS
    engine: Engine_ = "api"
    target_country: str = "US"
    target_share: float = 0.9
    #: people who also install each benign app (api engine only; they use other apps)
    benign_installs: int = 3
    merkle: bool = True

    def __post_init__(self) -> None:
        bad = [v for v in self.versions if v not in API_VERSIONS]
        if bad or not self.versions:
            raise InvalidInput(
                f"versions must be among {', '.join(API_VERSIONS)}; got {', '.join(bad) or '-'}"
            )
        if self.engine not in ("api", "bulk"):
            raise InvalidInput(f"engine must be api or bulk, not {self.engine!r}")


@dataclass(frozen=True)
class RunStore:
    """What an api run leaves to check: its store, the signed tree head that covers every
    record in it, the public key that verifies the head, and every app the ledger names."""

    path: Path
    tree_head: dict[str, Any]
    public_key_pem: str
    public_key_file: Path
    quiz_app: dict[str, Any]
    #: every app in the store with its records: ``{"id", "name", "records"}``
    apps: list[dict[str, Any]]

    @property
    def records(self) -> int:
        return sum(int(a["records"]) for a in self.apps)


@dataclass
class RunResult:
    """One version's run: the summary figures and where its ledger is."""

    exposure: ExposureRun
    curve: GrowthCurve
    ledger: Path
    seconds: float
    merkle_root: str | None = None
    store: RunStore | None = None


@dataclass
class ReplaySummary:
    """The whole replay, as ``summary.json`` holds it (``to_json``)."""

    population: int
    installers: int
    seed: int
    engine: str
    runs: list[RunResult] = field(default_factory=list)
    #: seconds the api engine spent loading the population into its template store (``None``
    #: when it copied a given store, or for the bulk engine); not part of ``summary.json``
    store_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": SCENARIO,
            "population": self.population,
            "installers": self.installers,
            "seed": self.seed,
            "engine": self.engine,
            "runs": [r.exposure.to_json() for r in self.runs],
            "ledgers": {r.exposure.version: _ledger_json(r) for r in self.runs},
        }


def _ledger_json(run: RunResult) -> dict[str, Any]:
    """One run's ledger in ``summary.json``: the quiz's export, and (api engine) the signed
    tree head of the whole store with every app in it, to check with ``ledger verify``."""
    data: dict[str, Any] = {
        "path": run.ledger.name,
        "records": run.exposure.disclosures,
        "merkle_root": run.merkle_root,
        "seconds": round(run.seconds, 3),
    }
    if run.store is not None:
        data.update(
            store=f"{run.exposure.version}/{run.store.path.name}",
            tree_head=run.store.tree_head,
            records_in_store=run.store.records,
            apps=run.store.apps,
            quiz_app=run.store.quiz_app,
            public_key_file=f"{run.exposure.version}/{run.store.public_key_file.name}",
            public_key_pem=run.store.public_key_pem,
        )
    return data


def checkpoint_store(path: Path) -> None:
    """Fold the write-ahead log of the SQLite store at ``path`` into its main file, so a
    copy of that one file is the whole store. The store must be idle (no other connection
    reading or writing): a busy checkpoint is a :class:`StoreError`."""
    if not path.is_file():
        raise InvalidInput(f"no SQLite store at {path}")
    engine = create_store_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            # a store in use will not be released by waiting here: answer within a second
            conn.exec_driver_sql("PRAGMA busy_timeout = 1000")
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
    finally:
        engine.dispose()
    if busy:
        raise StoreError(f"the store at {path} is in use; it cannot be copied for a replay")


def fresh_store(template: Path, target: Path) -> Engine:
    """A copy of the loaded template store for one run (same population, empty ledger).

    ``template`` must be checkpointed (:func:`checkpoint_store`); copying one file is much
    cheaper than loading the population again, and every run starts from the same bytes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        stale = target.with_name(target.name + suffix)
        if stale.exists():
            stale.unlink()
    shutil.copyfile(template, target)
    return create_store_engine(f"sqlite:///{target}")


def build_template(population: Any, path: Path) -> Path:
    """Migrate a SQLite store at ``path`` and load ``population`` into it (ids = index + 1),
    checkpointed and closed, ready for :func:`fresh_store`."""
    from graphwarden.graph.loader import load_population

    for suffix in ("", "-wal", "-shm"):
        stale = path.with_name(path.name + suffix)
        if stale.exists():
            stale.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_store_engine(url)
    try:
        load_population(engine, population)
    finally:
        engine.dispose()  # every connection closed first, so the checkpoint takes it all
    checkpoint_store(path)
    return path


def _api_run(
    config: ReplayConfig,
    version: ApiVersion,
    template: Path,
    installers: Sequence[int],
    benign_people: Sequence[int],
    http_factory: HttpFactory,
    progress: Progress | None,
) -> tuple[Path, RunStore]:
    from graphwarden.consent.services import SqlConsentService

    run_dir = config.out / version
    engine = fresh_store(template, run_dir / "graphwarden.db")
    try:
        clock = ManualClock(REPLAY_START)
        consent = SqlConsentService(engine, clock)
        quiz = QuizHarvester.register(consent, version)
        benign = [(cls, cls.register(consent, version)) for cls in BENIGN]
        with http_factory(engine, run_dir / "data", clock) as http:
            agent = QuizHarvester(http, quiz, version)
            total = len(installers)
            for k, person in enumerate(installers):
                clock.set(REPLAY_START + timedelta(microseconds=k * INSTALL_INTERVAL_US))
                agent.install(int(person) + 1)
                if progress is not None:
                    progress(version, k + 1, total)
            for cls, creds in benign:
                other = cls(http, creds, version)
                for person in benign_people:
                    other.install(int(person) + 1)
        ledger = run_dir / "ledger.parquet"
        export_ledger(engine, ledger, app_id=int(quiz.client_id))
        store = close_run_store(engine, consent, run_dir, clock, int(quiz.client_id))
        return ledger, store
    finally:
        engine.dispose()


#: the run's ledger public key, next to its store
PUBLIC_KEY_FILE = "ledger-public-key.pem"


def close_run_store(
    engine: Engine, consent: Any, run_dir: Path, clock: Clock, quiz_id: int
) -> RunStore:
    """Sign a tree head covering every record of the run's store (with the key its server
    used, under ``run_dir/data``) and describe the store: the head, the public key (also
    written to ``run_dir/ledger-public-key.pem``) and every app in its ledger."""
    from graphwarden.ledger.queries import latest_head
    from graphwarden.ledger.recipients import records_by_app
    from graphwarden.ledger.service import SqlDisclosureLedger
    from graphwarden.ledger.signing import LedgerSigner

    signer = LedgerSigner.load_or_create(run_dir / "data")
    SqlDisclosureLedger(engine, signer, clock).publish_head()
    head = latest_head(engine)
    if head is None:
        raise StoreError(f"the run's store under {run_dir} holds no signed tree head")
    key_file = run_dir / PUBLIC_KEY_FILE
    key_file.write_text(signer.public_key_pem())
    apps = []
    for app_id, count in records_by_app(engine).items():
        info = consent.get_app(app_id)
        apps.append({"id": app_id, "name": info.name if info else None, "records": count})
    quiz = consent.get_app(quiz_id)
    return RunStore(
        path=run_dir / "graphwarden.db",
        tree_head=head.to_json(),
        public_key_pem=signer.public_key_pem(),
        public_key_file=key_file,
        quiz_app={"id": quiz_id, "name": quiz.name if quiz else None},
        apps=apps,
    )


def run_replay(
    config: ReplayConfig,
    population: Any,
    *,
    http_factory: HttpFactory | None = None,
    progress: Progress | None = None,
    report: bool = True,
    template: Path | None = None,
) -> ReplaySummary:
    """Replay quiz-2014 on ``population`` under each version of ``config``.

    ``population``: the generator's ``Population`` (the api engine loads it once into a
    template store that each run copies) or, for the bulk engine, a
    :class:`ReplayPopulation`. ``template``: a SQLite store file that already holds exactly
    ``population`` and nothing else a run would read (e.g. the store ``graphwarden demo``
    has just populated); the api engine copies it instead of loading the population, and
    leaves it in place. Writes ``summary.json``, ``curves.json``, the runs' ledgers and
    (``report=True``) ``report.html`` under ``config.out``.
    """
    arrays = ReplayPopulation.of(population)
    if config.engine == "api" and http_factory is None:
        raise InvalidInput("the api engine needs a way to reach the server (http_factory)")
    installers = choose_installers(
        arrays,
        count=config.installers,
        seed=config.seed,
        target_country=config.target_country,
        target_share=config.target_share,
    )
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    people = write_people(out / "people.parquet", arrays.country, arrays.country_names)
    summary = ReplaySummary(
        population=arrays.n, installers=int(installers.size), seed=config.seed,
        engine=config.engine,
    )  # fmt: skip
    built: Path | None = None
    benign_people: list[int] = []
    if config.engine == "api":
        if template is None:
            if progress is not None:
                progress(STORE_STAGE, 0, 1)
            loading = time.perf_counter()
            template = built = build_template(population, out / "template.db")
            summary.store_seconds = time.perf_counter() - loading
            if progress is not None:
                progress(STORE_STAGE, 1, 1)
        else:
            checkpoint_store(template)
        rest = np.setdiff1d(np.flatnonzero(arrays.platform_enabled), installers)
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, 202]))
        take = min(config.benign_installs, rest.size)
        benign_people = [int(p) for p in rng.choice(rest, size=take, replace=False)]
    for version in config.versions:
        started = time.perf_counter()
        root: str | None = None
        store: RunStore | None = None
        if config.engine == "api":
            assert template is not None
            assert http_factory is not None
            ledger, store = _api_run(
                config, version, template, installers.tolist(), benign_people, http_factory,
                progress,
            )  # fmt: skip
            root = str(store.tree_head["root_hash"])
        else:
            total = int(installers.size)

            def step(done: int, v: str = version, t: int = total) -> None:
                if progress is not None:
                    progress(v, done, t)

            written = run_bulk(
                arrays, installers, version, out / version / "ledger.parquet",
                start_us=to_micros(REPLAY_START), merkle=config.merkle, progress=step,
            )  # fmt: skip
            ledger = written.path
            root = written.merkle_root.hex() if written.merkle_root is not None else None
        exposure = exposure_run(version, ledger, people)
        curve = growth_curve(ledger)
        summary.runs.append(
            RunResult(
                exposure=exposure,
                curve=curve,
                ledger=ledger,
                seconds=time.perf_counter() - started,
                merkle_root=root,
                store=store,
            )
        )
    if built is not None:
        built.unlink(missing_ok=True)
    write_summary(summary, out)
    if report:
        from graphwarden.analytics.report import write_report

        write_report(summary_json(summary), curves_json(summary), out / "report.html")
    return summary


def summary_json(summary: ReplaySummary) -> dict[str, Any]:
    return summary.to_json()


def curves_json(summary: ReplaySummary) -> dict[str, Any]:
    return {r.exposure.version: r.curve.to_json() for r in summary.runs}


def write_summary(summary: ReplaySummary, out: Path) -> None:
    """``summary.json`` and ``curves.json`` under ``out``."""
    (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2) + "\n")
    (out / "curves.json").write_text(json.dumps(curves_json(summary)) + "\n")


def iter_runs(summary: ReplaySummary) -> Iterator[ExposureRun]:
    return (r.exposure for r in summary.runs)


__all__ = [
    "PUBLIC_KEY_FILE",
    "REPLAY_START",
    "SCENARIO",
    "STORE_STAGE",
    "HttpFactory",
    "Progress",
    "ReplayConfig",
    "ReplaySummary",
    "RunResult",
    "RunStore",
    "build_template",
    "checkpoint_store",
    "close_run_store",
    "curves_json",
    "fresh_store",
    "run_replay",
    "write_summary",
]
