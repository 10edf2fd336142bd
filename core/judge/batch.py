"""OpenAI Batch API mode: JSONL, upload, create, poll, download, parse, commit; resumable."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from tiebreak.core.judge import sql
from tiebreak.core.judge.client import (
    JudgeError,
    RetryPolicy,
    call_with_retries,
    describe,
    make_client,
    redact,
)
from tiebreak.core.judge.job import JudgeJob, JudgeOptions, Summary, Task
from tiebreak.core.judge.parsers import ParseError, parse_completion
from tiebreak.core.judge.runner import CancelToken, Progress, ProgressCallback, close_run
from tiebreak.core.store import Store

if TYPE_CHECKING:  # openai takes seconds to import: it is imported where a call is made
    import openai

__all__ = ["BatchProgress", "batch_lines", "batch_progress", "run_batch", "run_batch_async"]

ENDPOINT: Final = "/v1/chat/completions"
FINAL = ("completed", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class BatchProgress(Progress):
    """A progress report while a batch runs: the run's figures plus the batch's own request counts.

    ``requests_*`` come from the batch object's ``request_counts`` at the last poll (requests,
    i.e. one per comparison, seed and order still missing; not tasks).
    """

    batch_id: str = ""
    status: str = ""
    requests_completed: int = 0
    requests_failed: int = 0
    requests_total: int = 0

    @property
    def requests_done(self) -> int:
        """Requests the batch has finished so far (completed or failed)."""
        return self.requests_completed + self.requests_failed

    def batch_text(self) -> str:
        """One line for a progress display, e.g. ``batch b-1 in_progress: 3/6 requests, 1 failed``."""
        total = f"{self.requests_total:,}" if self.requests_total else "?"
        return (f"batch {self.batch_id} {self.status}: {self.requests_done:,}/{total} requests, "
                f"{self.requests_failed:,} failed")  # fmt: skip


def batch_progress(batch: Any, base: Progress) -> BatchProgress:
    """A :class:`BatchProgress` from a polled batch object (missing counts read as 0)."""
    counts = getattr(batch, "request_counts", None)

    def count(name: str) -> int:
        return int(getattr(counts, name, 0) or 0) if counts is not None else 0

    return BatchProgress(base.finished, base.total, base.dollars, base.failed, base.cached,
                         batch_id=str(batch.id), status=str(batch.status),
                         requests_completed=count("completed"), requests_failed=count("failed"),
                         requests_total=count("total"))  # fmt: skip


def batch_lines(job: JudgeJob, tasks: list[Task]) -> tuple[list[str], dict[str, tuple[Task, bool]]]:
    """JSONL request lines for every order still missing, and custom_id -> (task, order)."""
    lines, index = [], {}
    for task in tasks:
        if task.identical:
            continue
        for order in job.missing_orders(task):
            custom_id = task.custom_id(order)
            index[custom_id] = (task, order)
            lines.append(json.dumps({"custom_id": custom_id, "method": "POST", "url": ENDPOINT,
                                     "body": job.request(task, order)}))  # fmt: skip
    return lines, index


class _BatchRun:
    """One submission (or resumption) of a batch for a JudgeJob."""

    def __init__(self, job: JudgeJob, client: openai.AsyncOpenAI, key: str | None,
                 policy: RetryPolicy, progress: ProgressCallback | None = None, total: int = 0) -> None:  # fmt: skip
        self.job, self.client, self.key, self.policy = job, client, key, policy
        self.progress, self.total = progress, total

    def report(self, batch: Any) -> None:
        """Tell the progress callback what the batch reported at this poll."""
        if self.progress is not None:
            s = self.job.summary
            self.progress(batch_progress(batch, Progress(s.finished, self.total, s.dollars, s.failed, s.cached)))

    async def _call(self, make: Any) -> Any:
        self.job.summary.requests += 1
        return await call_with_retries(make, self.policy)

    async def submit(self, lines: list[str]) -> str:
        """Upload and create the batch; the intent is committed first, so a crash cannot double-submit."""
        import openai  # imported on first use: the judge screens open without it
        job = self.job
        found = await self.recover() if job.batch_id is None else None
        if found is not None:
            return found
        data = ("\n".join(lines) + "\n").encode("utf-8")
        uploaded = await self._call(lambda: self.client.files.create(
            file=("tiebreak-judge-batch.jsonl", data, "application/jsonl"), purpose="batch"))
        with job.store.transaction() as tx:  # from here on a crash is recovered by recover()
            sql.set_run_status(tx, job.run_id, "submitting")
        job.summary.requests += 1
        try:  # never retried blindly: a lost answer may hide a created batch (look it up instead)
            batch = await self.client.batches.create(
                input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h",
                metadata={"tiebreak_run": str(job.run_id), "tiebreak_intent": str(job.batch_intent)})  # fmt: skip
        except openai.OpenAIError:
            found = await self.recover()
            if found is None:
                raise
            return found
        with job.store.transaction() as tx:
            sql.set_run_batch(tx, job.run_id, batch.id, "submitted")
        return str(batch.id)

    async def recover(self) -> str | None:
        """The batch an earlier process created for this run but died before saving, if any.

        Looks the run's intent token up in the provider's batch list (metadata
        ``tiebreak_intent``); found, its id is saved and the batch is collected, never re-sent.
        """
        job = self.job
        if not job.batch_intent:
            return None
        page = await self._call(lambda: self.client.batches.list(limit=100))
        for batch in page.data:
            if (batch.metadata or {}).get("tiebreak_intent") == job.batch_intent:
                with job.store.transaction() as tx:
                    sql.set_run_batch(tx, job.run_id, batch.id, "submitted")
                job.batch_id = str(batch.id)
                return job.batch_id
        return None

    async def wait(self, batch_id: str, poll: float, cancel: CancelToken | None) -> Any:
        while True:
            batch = await self._call(lambda: self.client.batches.retrieve(batch_id))
            self.report(batch)
            if batch.status in FINAL:
                return batch
            deadline = time.monotonic() + poll
            while time.monotonic() < deadline:
                if cancel is not None and cancel.cancelled:
                    return None
                await asyncio.sleep(min(0.05, poll))

    async def collect(self, batch: Any, index: dict[str, tuple[Task, bool]]) -> None:
        job = self.job
        seconds = float((batch.completed_at or time.time()) - batch.created_at) / max(1, len(index))
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await self._call(lambda f=file_id: self.client.files.content(f))
            for line in filter(None, content.text.splitlines()):
                self.commit_line(json.loads(line), index, seconds)
        for task, order in list(index.values()):  # asked for, but neither answered nor failed
            job.fail(task, order, f"batch {batch.status}: no result", None)

    def commit_line(self, record: dict[str, Any], index: dict[str, tuple[Task, bool]],
                    seconds: float) -> None:  # fmt: skip
        job = self.job
        entry = index.pop(str(record.get("custom_id")), None)
        if entry is None:
            job.summary.failures["batch result out of scope"] += 1
            return
        task, order = entry
        response = record.get("response") or {}
        if record.get("error") or response.get("status_code") != 200:
            error = record.get("error") or (response.get("body") or {}).get("error") or {}
            code = response.get("status_code")
            job.fail(task, order, f"HTTP {code}" if code else "batch error",
                     redact(json.dumps(error)[:500], self.key))  # fmt: skip
            return
        body = response.get("body") or {}
        try:
            parsed = parse_completion(job.config, body)
        except ParseError as exc:
            job.fail(task, order, "unparsed", redact(str(exc), self.key))
            return
        job.answer(task, order, parsed, body, seconds, price_factor=job.config.batch_price_factor)


async def run_batch_async(
    store: Store,
    options: JudgeOptions,
    *,
    api_key: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    poll_interval: float = 30.0,
    policy: RetryPolicy | None = None,
) -> tuple[Summary, int]:
    """Judge through the Batch API; see :func:`run_batch`."""
    import openai  # imported on first use: the judge screens open without it
    job = JudgeJob(store, options, mode="batch")
    tasks = job.plan()
    for task in tasks:  # ties and fully cached tasks need no request
        if task.identical or not job.missing_orders(task):
            job.complete_from_cache(task)
    lines, index = batch_lines(job, tasks)
    started, status = time.perf_counter(), "failed"
    client = make_client(options.base_url, api_key, job.config.timeout)
    run = _BatchRun(job, client, api_key, policy or RetryPolicy(max_retries=job.config.max_retries),
                    progress, len(tasks))
    try:
        batch_id = job.batch_id
        if batch_id is None and lines:
            status = "submitting"  # an error from here on may have created the batch: stay recoverable
            batch_id = await run.submit(lines)
        status = "submitted" if batch_id else "done"  # "submitted" = resumable from the batch id
        batch = await run.wait(batch_id, poll_interval, cancel) if batch_id else None
        if batch_id and batch is None:
            job.summary.cancelled = True
        elif batch is not None:
            if batch.status != "completed" and not batch.output_file_id:
                status = "failed"
                raise JudgeError(f"batch {batch_id} ended with status {batch.status}")
            await run.collect(batch, index)
            status = "done"
    except openai.OpenAIError as exc:
        reason, detail = describe(exc, api_key)
        raise JudgeError(f"Batch API: {reason}: {detail}") from None
    finally:
        job.summary.wall_seconds = time.perf_counter() - started
        close_run(job, status)
        await client.close()
        if progress is not None:
            s = job.summary
            progress(Progress(s.finished, len(tasks), s.dollars, s.failed, s.cached))
    return job.summary, job.run_id


def run_batch(store: Store, options: JudgeOptions, **kwargs: Any) -> tuple[Summary, int]:
    """Submit the pending comparisons as one OpenAI batch, wait for it and commit the verdicts.

    A run whose batch was submitted but not collected (cancelled, crashed, or the process
    ended) is resumed from its stored batch id by the next call with the same judge.

    Parameters
    ----------
    store : Store
        The database.
    options : JudgeOptions
        Configuration and scope, as for online runs (``concurrency`` is ignored).
    **kwargs
        ``api_key``, ``progress``, ``cancel``, ``poll_interval`` (seconds), ``policy``.

    Returns
    -------
    (Summary, run_id)
    """
    return asyncio.run(run_batch_async(store, options, **kwargs))
