"""A judge job: what to judge (plan, cache look-ups) and how answers become stored verdicts."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tiebreak.core.domain import unswap
from tiebreak.core.formats.records import RAW_JSON_KEY
from tiebreak.core.judge import sql
from tiebreak.core.judge.config import ConfigError, JudgeConfig
from tiebreak.core.judge.parsers import Parsed, usage_tokens
from tiebreak.core.judge.prompts import order_swapped, request_body
from tiebreak.core.judge.sql import CacheEntry, CacheKey, Candidate
from tiebreak.core.store import Store, Transaction

__all__ = ["JudgeOptions", "Task", "Summary", "JudgeJob", "annotator_name"]


@dataclass(frozen=True)
class JudgeOptions:
    """Scope and settings of one run (the configuration's own values apply where None)."""

    config: JudgeConfig
    model: str | None = None
    base_url: str | None = None
    reference: str | None = None
    generators: tuple[str, ...] = ()
    seeds: tuple[int, ...] | None = None
    both_orders: bool | None = None
    concurrency: int = 8
    limit: int | None = None
    force: bool = False
    labelled_by: str | None = None

    def effective_config(self) -> JudgeConfig:
        """The configuration with the model and both-orders overrides applied."""
        config = self.config.with_model(self.model)
        if self.both_orders is not None and self.both_orders != config.both_orders:
            config = replace(config, both_orders=self.both_orders)
        return config


def annotator_name(config: JudgeConfig, model: str | None, both_orders: bool | None) -> str:
    """The judge's annotator (and group) name: the configuration's name, with suffixes.

    ``@MODEL`` when the model is overridden; ``+both`` (or ``+one``) when the both-orders flag is
    overridden, because averaging two orders changes what a verdict means.
    """
    name = config.name
    if model and model != config.model:
        name += f"@{model}"
    if both_orders is not None and both_orders != config.both_orders:
        name += "+both" if both_orders else "+one"
    return name


@dataclass
class Task:
    """One (comparison, seed) to judge; ``orders`` lists the shown orders to ask (swapped flags)."""

    candidate: Candidate
    seed: int
    swapped: bool
    orders: tuple[bool, ...]
    replaces: int | None = None
    answers: dict[bool, CacheEntry] = field(default_factory=dict)
    called: bool = False

    @property
    def identical(self) -> bool:
        """Both outputs are the same text (a tie without a call)."""
        return self.candidate.output_1 == self.candidate.output_2

    def shown(self, swapped: bool) -> tuple[str, str]:
        """(first shown, second shown) texts for this order."""
        c = self.candidate
        return (c.output_2, c.output_1) if swapped else (c.output_1, c.output_2)

    def custom_id(self, swapped: bool) -> str:
        """Stable id of one request (Batch API ``custom_id``)."""
        return f"c{self.candidate.comparison_id}-s{self.seed}-{'b' if swapped else 'a'}"


@dataclass
class Summary:
    """Counts and money of one run (all fractions/dollars; formatted by the CLI and panel)."""

    planned: int = 0
    already: int = 0
    judged: int = 0
    cached: int = 0
    ties: int = 0
    unparsed: int = 0
    failed: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    dollars: float = 0.0
    call_seconds: float = 0.0
    calls: int = 0
    requests: int = 0
    retries: int = 0
    wall_seconds: float = 0.0
    both_orders: int = 0
    consistent: int = 0
    cancelled: bool = False

    @property
    def finished(self) -> int:
        """Tasks that reached an end (verdict or failure)."""
        return self.judged + self.cached + self.ties + self.unparsed + self.failed

    def position_consistency(self) -> float | None:
        """Fraction of both-order verdicts whose two orders agree (None without any)."""
        return self.consistent / self.both_orders if self.both_orders else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out = {k: v for k, v in self.__dict__.items() if k != "failures"}
        out["failures"] = dict(self.failures)
        out["position_consistency"] = self.position_consistency()
        out["seconds_per_1000"] = 1000 * self.call_seconds / self.calls if self.calls else None
        done = self.judged + self.cached + self.ties
        out["wall_seconds_per_1000"] = 1000 * self.wall_seconds / done if done else None
        return out


def pending(
    cands: list[Candidate], done: dict[tuple[int, int], int], seeds: tuple[int, ...], *,
    force: bool = False, limit: int | None = None,
) -> tuple[list[tuple[Candidate, int, int | None]], int]:
    """(comparison, seed, replaced annotation) still to judge, and how many are already judged.

    ``limit`` counts comparisons still to judge (with at least one seed to ask), not comparisons
    in the database: a rerun with the same limit judges the next ones.
    """
    out: list[tuple[Candidate, int, int | None]] = []
    already = taken = 0
    for cand in cands:
        if limit is not None and taken >= limit:
            break
        new = []
        for seed in seeds:
            previous = done.get((cand.comparison_id, seed))
            if previous is not None and not force:
                already += 1
                continue
            new.append((cand, seed, previous))
        taken += bool(new)
        out.extend(new)
    return out, already


def _without_userinfo(url: str | None) -> str | None:
    """The endpoint URL without any ``user:password@`` part (never stored)."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class JudgeJob:
    """Plans a run against the store and commits each verdict as soon as it is complete."""

    def __init__(self, store: Store, options: JudgeOptions, *, mode: str = "online") -> None:
        self.store = store
        self.options = options
        self.config = options.effective_config()
        self.config_hash = self.config.config_hash()
        self.name = annotator_name(options.config, options.model, options.both_orders)
        self.summary = Summary()
        self.batch_id: str | None = None
        self.batch_intent: str | None = None  # the token sent as batch metadata (crash recovery)
        with store.transaction() as tx:
            sql.reap_dead_runs(tx)
            self.annotator_id = self._annotator(tx)
            resumed = sql.open_batch_run(store, self.annotator_id, self.config_hash) if (
                mode == "batch") else None  # fmt: skip
            if resumed is not None:
                self.run_id, self.batch_id = resumed["run_id"], resumed["batch_id"]
                self.batch_intent = resumed["options"].get("intent")
            else:
                self.run_id = self._create_run(tx, mode)
        self._cache = sql.cache_entries(store, self.config_hash)

    def _create_run(self, tx: Transaction, mode: str) -> int:
        options = self.options
        record = self._options_record()
        if mode == "batch":
            self.batch_intent = record["intent"] = uuid.uuid4().hex
        return sql.create_run(
            tx, annotator_id=self.annotator_id, config_name=options.config.name,
            config_hash=self.config_hash, model=self.config.model,
            base_url=_without_userinfo(options.base_url),
            mode=mode, options=record,
        )  # fmt: skip

    def _annotator(self, tx: Transaction) -> int:
        """The annotator of this configuration version: ``NAME`` for the first, ``NAME.vK`` after edits.

        An edit of a configuration (prompt, model, settings) is a new version: its verdicts go to
        a new annotator whose stored config (text and hash) says which version made them.
        """
        provenance = self.config.provenance()
        found = self.store.annotator_row(name=self.name)
        row = None if found is None else (found["kind"], found["config"])
        if found is not None and row is not None and row[0] == "judge" and not row[1] and self.config.alpaca is not None:
            # imported AlpacaEval annotations under this evaluator's name: the same judge (as in
            # AlpacaEval's own cache); its verdicts count as done and this version is recorded
            sql.adopt_annotator(tx, found["id"], provenance)
            return int(found["id"])
        if row is not None and (row[0] != "judge" or not row[1]):
            raise ConfigError(f"annotator {self.name!r} already exists ({row[0]}, not made by "
                              "`tiebreak judge`); save the configuration under another name")  # fmt: skip
        keys = [*self.config.identity(), "both_orders"]
        versions = sql.judge_versions(self.store, self.name)
        for name, config in versions:
            if all(config.get(k) == provenance.get(k) for k in keys):
                self.name = name
                return tx.annotator_id(name, "judge")
        if versions:
            self.name = f"{self.name}.v{len(versions) + 1}"
        provenance["version"] = len(versions) + 1
        provenance["version_of"] = versions[0][0] if versions else self.name
        return tx.annotator_id(self.name, "judge", config=provenance)

    def _options_record(self) -> dict[str, Any]:
        o = self.options
        return {"reference": o.reference, "generators": list(o.generators), "seeds": list(self.seeds),
                "both_orders": self.config.both_orders, "concurrency": o.concurrency,
                "limit": o.limit, "force": o.force, "labelled_by": o.labelled_by}  # fmt: skip

    @property
    def seeds(self) -> tuple[int, ...]:
        """Seeds of this run (the option, else the configuration's)."""
        return tuple(self.options.seeds) if self.options.seeds else self.config.seeds

    # -- planning -----------------------------------------------------------------------
    def plan(self) -> list[Task]:
        """Tasks still to do; judged (comparison, seed) pairs are skipped unless ``force``."""
        o = self.options
        sources = ("judge", "import") if self.config.alpaca is not None else ("judge",)
        done = sql.judged(self.store, self.annotator_id, sources)
        cands = sql.candidates(self.store, reference=o.reference, generators=list(o.generators) or None,
                               labelled_by=o.labelled_by)  # fmt: skip
        todo, self.summary.already = pending(cands, done, self.seeds, force=o.force, limit=o.limit)
        tasks = []
        for cand, seed, previous in todo:
            swapped = order_swapped(self.config, cand.instruction, cand.output_1, cand.output_2, seed)
            orders = (swapped, not swapped) if self.config.both_orders else (swapped,)
            tasks.append(Task(cand, seed, swapped, orders, replaces=previous))
        self.summary.planned = len(tasks)
        return tasks

    def cache_key(self, task: Task, swapped: bool) -> CacheKey:
        """(instruction text, first shown text, second shown text, config hash, seed)."""
        c = task.candidate
        first, second = (c.output_2_text_id, c.output_1_text_id) if swapped else (
            c.output_1_text_id, c.output_2_text_id)  # fmt: skip
        return (c.instruction_text_id, first, second, self.config_hash, task.seed)

    def missing_orders(self, task: Task) -> list[bool]:
        """Orders still needing a call; fills ``task.answers`` from the cache (unless force)."""
        missing = []
        for order in task.orders:
            hit = None if self.options.force else self._cache.get(self.cache_key(task, order))
            if hit is None:
                missing.append(order)
            else:
                task.answers[order] = hit
        return missing

    def request(self, task: Task, swapped: bool) -> dict[str, Any]:
        """The chat completion request body for one order of a task."""
        first, second = task.shown(swapped)
        return request_body(self.config, task.candidate.instruction, first, second)

    # -- committing ---------------------------------------------------------------------
    def answer(self, task: Task, swapped: bool, parsed: Parsed, completion: dict[str, Any],
               seconds: float, price_factor: float = 1.0) -> None:  # fmt: skip
        """Cache one parsed answer (committed at once) and complete the task if it was the last."""
        prompt_tokens, completion_tokens = usage_tokens(completion)
        price = None
        if self.config.alpaca is not None:
            price = self._alpaca_price(prompt_tokens, completion_tokens)
            price = None if price is None else price_factor * price
            self.summary.dollars += price or 0.0
        elif prompt_tokens is not None and completion_tokens is not None:
            price = price_factor * (prompt_tokens * self.config.price_per_input_token
                                    + completion_tokens * self.config.price_per_output_token)  # fmt: skip
            self.summary.dollars += price
        if math.isnan(parsed.raw_preference):  # AlpacaEval's unparsable answer: no verdict, no cache
            self._unparsed(task, swapped)  # (the call's price counts in the run's dollars)
            return
        entry = CacheEntry(parsed.raw_preference, parsed.raw_completion, parsed.rationale,
                           prompt_tokens, completion_tokens, price, seconds)  # fmt: skip
        task.answers[swapped] = entry
        task.called = True
        self.summary.calls += 1
        self.summary.call_seconds += seconds
        key = self.cache_key(task, swapped)
        with self.store.transaction() as tx:  # the paid answer is kept before anything else can fail
            sql.cache_put(tx, key, entry, self.run_id)
        self._cache[key] = entry
        if len(task.answers) == len(task.orders):
            with self.store.transaction() as tx:
                self._commit(tx, task)

    def _alpaca_price(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        """AlpacaEval's price of one call: total tokens x its price per token."""
        from tiebreak.core.judge.alpaca_config import price_per_token

        per_token = price_per_token(self.config.alpaca)
        if per_token is None or prompt_tokens is None or completion_tokens is None:
            return None
        return (prompt_tokens + completion_tokens) * per_token

    def _unparsed(self, task: Task, swapped: bool) -> None:
        """Record an unparsable answer as AlpacaEval does: a row whose preference (and raw
        completion, price and time) are null; it is not asked again (AlpacaEval caches it as -1)."""
        self.summary.unparsed += 1
        self.summary.calls += 1
        task.called = True
        with self.store.transaction() as tx:
            if task.replaces is not None:
                tx.retract_annotation(task.replaces)
            tx.add_annotation(
                comparison_id=task.candidate.comparison_id, annotator_id=self.annotator_id,
                preference=None, raw_preference=None, swapped=int(swapped), seed=task.seed,
                run_id=self.run_id, source="judge",
                extra={"config_hash": self.config_hash, "unparsed": True},
            )  # fmt: skip

    def complete_from_cache(self, task: Task) -> None:
        """Store the verdict of a task whose answers all came from the cache (or a tie)."""
        with self.store.transaction() as tx:
            self._commit(tx, task)

    def _commit(self, tx: Transaction, task: Task) -> None:
        s = self.summary
        if task.replaces is not None:
            tx.retract_annotation(task.replaces)
        extra: dict[str, Any] = {"config_hash": self.config_hash}
        if task.identical:
            s.ties += 1
            extra["identical_outputs"] = True
            self._add(tx, task, 1.5, 1.5, None, None, 0.0, 0.0, extra)
            return
        primary = task.answers[task.swapped]
        canon = [unswap(task.answers[o].raw_preference, o) for o in task.orders]
        preference = sum(p for p in canon if p is not None) / len(canon)
        if len(task.orders) == 2:
            s.both_orders += 1
            side = [math.copysign(1, p - 1.5) if p != 1.5 else 0 for p in canon if p is not None]
            s.consistent += int(side[0] == side[1])
            extra["orders"] = [{"swapped": o, "raw_preference": task.answers[o].raw_preference,
                                "preference": p} for o, p in zip(task.orders, canon, strict=True)]  # fmt: skip
            extra["position_consistent"] = side[0] == side[1]
        extra["cached"] = not task.called
        rationale = primary.rationale
        if self.config.alpaca is not None:
            from tiebreak.core.judge.alpaca_config import processor_columns

            if self.config.alpaca.completion_key == "completions_all":
                extra[RAW_JSON_KEY] = "json"  # the raw completion is AlpacaEval's choice dict
            extra.update(processor_columns(self.config.alpaca, primary.raw_completion, preference))
            rationale = extra.get("concise_explanation") or rationale
        if task.called:
            s.judged += 1
        else:
            s.cached += 1
        price = sum(a.price or 0.0 for a in task.answers.values())
        seconds = sum(a.seconds or 0.0 for a in task.answers.values())
        self._add(tx, task, preference, primary.raw_preference, primary.raw_completion,
                  rationale, price, seconds, extra)  # fmt: skip

    def _add(self, tx: Transaction, task: Task, preference: float, raw: float, completion: str | None,
             rationale: str | None, price: float, seconds: float, extra: dict[str, Any]) -> None:  # fmt: skip
        tx.add_annotation(
            comparison_id=task.candidate.comparison_id, annotator_id=self.annotator_id,
            preference=preference, raw_preference=raw, swapped=int(task.swapped),
            rationale=rationale, raw_completion=completion, price=price, seconds=seconds,
            seed=task.seed, run_id=self.run_id, source="judge", extra=extra,
        )  # fmt: skip

    def fail(self, task: Task, swapped: bool, reason: str, detail: str | None) -> None:
        """Record a failure (no verdict); the task is retried by the next run."""
        self.summary.failed += 1
        self.summary.failures[reason] += 1
        with self.store.transaction() as tx:
            sql.add_failure(tx, self.run_id, task.candidate.comparison_id, task.seed,
                            swapped, reason, detail)  # fmt: skip

    def finish(self, status: str) -> None:
        """Close the run row with its status and summary."""
        with self.store.transaction() as tx:
            sql.finish_run(tx, self.run_id, status, self.summary.as_dict())
