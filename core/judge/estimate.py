"""Before a run: how many comparisons will be asked and what it may cost; a one-request connection test."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from tiebreak.core.judge import sql
from tiebreak.core.judge.client import JudgeError, describe, make_client
from tiebreak.core.judge.config import JudgeConfig
from tiebreak.core.judge.job import JudgeOptions, annotator_name, pending
from tiebreak.core.judge.prompts import render_messages, request_body
from tiebreak.core.store import Store

__all__ = ["Estimate", "estimate_run", "check_connection", "CHARS_PER_TOKEN", "PROBE_TIMEOUT"]

#: Token estimate of a text: characters / 4 (OpenAI's rule of thumb for English).
CHARS_PER_TOKEN = 4.0
#: Seconds before a connection test gives up.
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Estimate:
    """What a run would ask (nothing is written to compute it)."""

    comparisons: int
    tasks: int
    requests: int
    already: int
    input_tokens: int
    output_tokens: int
    dollars: float

    def text(self) -> str:
        """One line for the panel."""
        if not self.tasks:
            return f"Nothing to judge ({self.already} verdict(s) already stored)."
        return (f"Will ask {self.comparisons:,} comparison(s): {self.requests:,} request(s), about "
                f"{self.input_tokens:,} input + up to {self.output_tokens:,} output tokens ≈ "
                f"${self.dollars:.4f} (the configuration's prices; {self.already} already judged).")  # fmt: skip


def estimate_run(store: Store, options: JudgeOptions, *, batch: bool = False) -> Estimate:
    """Count the (comparison, seed) tasks a run would ask and estimate tokens and dollars.

    Same selection as :meth:`tiebreak.core.judge.job.JudgeJob.plan` (the cache is not consulted:
    cached answers make the real cost lower). Input tokens: rendered prompt characters / 4, per
    order asked; output tokens: the configuration's ``max_tokens`` per request (an upper bound).

    Parameters
    ----------
    store : Store
        The database (read only).
    options : JudgeOptions
        The run as the panel describes it.
    batch : bool
        Apply the configuration's Batch API price factor.
    """
    config = options.effective_config()
    found = store.annotator_row(name=annotator_name(options.config, options.model, options.both_orders))
    done = sql.judged(store, int(found["id"])) if found is not None else {}
    cands = sql.candidates(store, reference=options.reference, generators=list(options.generators) or None)
    seeds = tuple(options.seeds) if options.seeds else config.seeds
    todo, already = pending(cands, done, seeds, force=options.force, limit=options.limit)
    orders = 2 if config.both_orders else 1
    chars = 0
    for cand, _seed, _prev in todo:
        messages = render_messages(config, cand.instruction, cand.output_1, cand.output_2)
        chars += sum(len(m["content"]) for m in messages)
    input_tokens = math.ceil(chars * orders / CHARS_PER_TOKEN)
    requests = len(todo) * orders
    output_tokens = requests * config.max_tokens
    dollars = input_tokens * config.price_per_input_token + output_tokens * config.price_per_output_token
    if batch:
        dollars *= config.batch_price_factor
    comparisons = len({cand.comparison_id for cand, _s, _p in todo})
    return Estimate(comparisons, len(todo), requests, already, input_tokens, output_tokens, dollars)


def check_connection(base_url: str | None, api_key: str | None, config: JudgeConfig,
                    timeout: float = PROBE_TIMEOUT) -> str:  # fmt: skip
    """Send one cheap judge request (a tiny comparison, one output token); return a success message.

    The request is the configuration's own (model, logprobs or tools), so a model the endpoint
    does not serve or an unsupported option shows up here rather than in the run.

    Raises
    ------
    JudgeError
        With the reason (connection refused, timeout, HTTP status and the server's message); the
        key never appears in it.
    """
    import openai  # imported on first use: the judge screens open without it

    async def probe() -> str:
        client = make_client(base_url, api_key, timeout)
        try:
            body = request_body(config, "Say OK.", "OK", "OK.")
            body["max_tokens"] = 1
            reply = await client.chat.completions.create(**body)
        finally:
            await client.close()
        return str(reply.model or config.model)

    try:
        answered = asyncio.run(asyncio.wait_for(probe(), timeout + 1))
    except openai.OpenAIError as exc:
        reason, detail = describe(exc, api_key)
        raise JudgeError(f"{base_url or 'OpenAI'}: {reason}: {detail}") from None
    except TimeoutError:
        raise JudgeError(f"{base_url or 'OpenAI'}: no answer within {timeout:.0f} s") from None
    return f"Connected: {base_url or 'OpenAI'} answered as {answered}."
