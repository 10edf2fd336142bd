"""Online judging: asyncio + AsyncOpenAI, bounded concurrency, retries, commit per verdict."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tiebreak.core.judge.client import (
    FatalJudgeError,
    JudgeError,
    RetryPolicy,
    call_with_retries,
    describe,
    is_fatal,
    make_client,
    redact,
)  # fmt: skip
from tiebreak.core.judge.job import JudgeJob, JudgeOptions, Summary, Task
from tiebreak.core.judge.parsers import LogprobsUnsupported, ParseError, parse_completion
from tiebreak.core.logs import redact_url
from tiebreak.core.store import Store

if TYPE_CHECKING:  # openai takes seconds to import: it is imported where a call is made
    import openai

__all__ = ["CancelToken", "JudgeRunFailed", "Progress", "close_run", "run_judge", "run_judge_async"]

log = logging.getLogger(__name__)


class JudgeRunFailed(JudgeError):
    """A judge run stopped on an error that is not the endpoint's (the database, a bug); paid
    answers received before it are in the cache."""


class CancelToken:
    """Thread-safe cancel flag: set from any thread, the run stops its in-flight calls."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the run to stop (verdicts already committed stay)."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once cancel() was called."""
        return self._event.is_set()


@dataclass(frozen=True)
class Progress:
    """A progress report: finished of total tasks, and the run's dollars so far."""

    finished: int
    total: int
    dollars: float
    failed: int
    cached: int


ProgressCallback = Callable[[Progress], Any]


class _OnlineRun:
    """Runs the planned tasks of one JudgeJob with N concurrent workers."""

    def __init__(self, job: JudgeJob, client: openai.AsyncOpenAI, key: str | None,
                 policy: RetryPolicy, progress: ProgressCallback | None) -> None:  # fmt: skip
        self.job, self.client, self.key, self.policy = job, client, key, policy
        self.progress = progress
        self.fatal: JudgeError | None = None
        self.total = 0

    def _report(self) -> None:
        if self.progress is not None:
            s = self.job.summary
            self.progress(Progress(s.finished, self.total, s.dollars, s.failed, s.cached))

    async def _ask(self, body: dict[str, Any]) -> tuple[dict[str, Any], float]:
        summary = self.job.summary

        async def once() -> str:
            summary.requests += 1
            # The client's generic ``post`` (public, for raw endpoints): it skips the SDK's
            # per-request TypedDict transform and model construction (~10 ms of CPU per call,
            # which capped throughput); status errors still raise openai's exceptions. The
            # per-call timeout is the client's (make_client: the configuration's ``timeout``).
            return await self.client.post("/chat/completions", body=body, cast_to=str)

        def count_retry(attempt: int, exc: BaseException, delay: float) -> None:
            import openai  # imported on first use: the judge screens open without it
            refused = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
            if refused and summary.calls == 0:
                raise exc  # unreachable before any answer: fail now with the reason, not after the backoff
            summary.retries += 1
            log.info("retry %d in %.2fs after %s", attempt + 1, delay, describe(exc, self.key)[0])

        start = time.perf_counter()
        text = await call_with_retries(once, self.policy, count_retry)
        try:
            completion = json.loads(text)
        except json.JSONDecodeError:
            raise ParseError(f"the server's answer is not JSON: {text[:80]!r}") from None
        if not isinstance(completion, dict):
            raise ParseError(f"the server's answer is not a JSON object: {text[:80]!r}")
        return completion, time.perf_counter() - start

    async def do_task(self, task: Task) -> None:
        import openai  # imported on first use: the judge screens open without it
        job = self.job
        if task.identical:
            job.complete_from_cache(task)
            return
        missing = job.missing_orders(task)
        if not missing:
            job.complete_from_cache(task)
            return
        for order in missing:
            try:
                completion, seconds = await self._ask(job.request(task, order))
                parsed = parse_completion(job.config, completion)
            except LogprobsUnsupported as exc:
                raise FatalJudgeError(f"{job.config.name}: {exc}") from None
            except ParseError as exc:
                job.fail(task, order, "unparsed", redact(str(exc), self.key))
                return
            except openai.OpenAIError as exc:
                reason, detail = describe(exc, self.key)
                if job.config.parser == "weighted" and "logprob" in detail.lower():
                    raise FatalJudgeError(f"{job.config.name}: the endpoint rejected logprobs "
                                          f"({reason}): {detail}") from None  # fmt: skip
                if reason == "HTTP 400" and job.config.answer == "tool" and "tool" in detail.lower():
                    raise FatalJudgeError(f"{job.config.name}: the endpoint rejected tool calls; set "
                                          f'answer = "text" in the configuration: {detail}') from None  # fmt: skip
                if is_fatal(exc):
                    raise FatalJudgeError(f"{reason}: {detail}") from None
                if reason == "connection error" and job.summary.calls == 0:
                    raise FatalJudgeError(f"cannot reach the endpoint {redact_url(str(self.client.base_url))}: "
                                          f"{detail}") from None  # fmt: skip
                job.fail(task, order, reason, detail)
                return
            job.answer(task, order, parsed, completion, seconds)

    async def worker(self, tasks: list[Task]) -> None:
        while tasks and self.fatal is None:
            task = tasks.pop()
            try:
                await self.do_task(task)
            except FatalJudgeError as exc:
                self.fatal = self.fatal or exc
                return
            except Exception as exc:  # a locked or full database, a bug: stop the run, loudly
                log.exception("judge worker failed on comparison %s", task.candidate.comparison_id)
                self.fatal = self.fatal or JudgeRunFailed(
                    f"the run stopped: {type(exc).__name__}: {redact(str(exc), self.key)} (answers "
                    "already received are kept in the cache; run the judge again to finish)"
                )
                return
            self._report()

    async def run(self, tasks: list[Task], concurrency: int, cancel: CancelToken | None) -> None:
        self.total = len(tasks)
        queue = list(reversed(tasks))  # pop() from the end keeps the planned order
        workers = [asyncio.ensure_future(self.worker(queue)) for _ in range(max(1, concurrency))]
        self._report()
        try:
            while not all(w.done() for w in workers):
                if (cancel is not None and cancel.cancelled) or self.fatal is not None:
                    for w in workers:
                        w.cancel()
                    break
                await asyncio.wait(workers, timeout=0.05, return_when=asyncio.FIRST_COMPLETED)
        finally:
            results = await asyncio.gather(*workers, return_exceptions=True)
        for result in results:  # nothing a worker raised may pass silently
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                self.fatal = self.fatal or JudgeRunFailed(f"the run stopped: {type(result).__name__}: {result}")


async def run_judge_async(
    store: Store,
    options: JudgeOptions,
    *,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    policy: RetryPolicy | None = None,
) -> tuple[Summary, int]:
    """Judge every planned (comparison, seed) of ``options``; see :func:`run_judge`."""
    job = JudgeJob(store, options)
    tasks = job.plan()
    started = time.perf_counter()
    status = "failed"
    client = make_client(options.base_url, api_key, job.config.timeout) if tasks else None
    try:
        if client is not None:
            policy = policy or RetryPolicy(max_retries=job.config.max_retries)
            online = _OnlineRun(job, client, api_key, policy, progress)
            await online.run(tasks, options.concurrency, cancel)
            if online.fatal is not None:
                raise online.fatal
        job.summary.cancelled = bool(cancel and cancel.cancelled)
        status = "cancelled" if job.summary.cancelled else "done"
    finally:
        job.summary.wall_seconds = time.perf_counter() - started
        close_run(job, status)
        if client is not None:
            await client.close()
    return job.summary, job.run_id


def close_run(job: JudgeJob, status: str) -> None:
    """Record the run's final status; a failure to do so (disk full) is logged, never masks the cause.

    A run left 'running' by a failed close is found dead and marked 'interrupted' by the next
    start (:func:`tiebreak.core.judge.sql.reap_dead_runs`).
    """
    try:
        job.finish(status)
    except Exception:
        if status != "failed":
            raise
        log.exception("could not record the failed status of judge run %s", job.run_id)


def run_judge(
    store: Store,
    options: JudgeOptions,
    *,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    policy: RetryPolicy | None = None,
) -> tuple[Summary, int]:
    """Run a judge over the comparisons in scope, committing each verdict as it arrives.

    Parameters
    ----------
    store : Store
        The database (used only from the calling thread).
    options : JudgeOptions
        Configuration, scope and concurrency.
    api_key : str, optional
        The key (see :func:`tiebreak.core.judge.client.resolve_api_key`); never stored or logged.
    progress : callable, optional
        Called with a :class:`Progress` after each finished task (from this thread).
    cancel : CancelToken, optional
        Set from another thread to stop; in-flight calls are abandoned, nothing else is lost.
    policy : RetryPolicy, optional
        Retry settings (default: the configuration's max_retries with exponential backoff).

    Returns
    -------
    (Summary, run_id)

    Raises
    ------
    JudgeError
        For errors that every call would hit (bad key, unknown model, no logprobs support).
    """
    return asyncio.run(run_judge_async(store, options, api_key=api_key, progress=progress,
                                       cancel=cancel, policy=policy))  # fmt: skip
