"""Human-readable summary of a judge run (CLI and panel)."""

from __future__ import annotations

from typing import Any

from tiebreak.core.judge.job import Summary

__all__ = ["format_summary"]


def format_summary(name: str, run_id: int, s: Summary) -> str:
    """The human-readable end-of-run summary."""
    d: dict[str, Any] = s.as_dict()
    reasons = ", ".join(f"{r}: {n}" for r, n in sorted(s.failures.items())) or "-"
    lines = [
        f"judge {name}, run {run_id}{' (cancelled)' if s.cancelled else ''}",
        f"  done (new verdicts): {s.judged}",
        f"  from cache:          {s.cached}",
        f"  ties (identical):    {s.ties}",
        f"  already judged:      {s.already}",
        f"  failed:              {s.failed}  ({reasons})",
        *([f"  unparsed:            {s.unparsed}  (recorded with a null preference, as AlpacaEval does)"]
          if s.unparsed else []),
        f"  dollars spent:       ${s.dollars:.4f}",
        f"  requests:            {s.requests}  ({s.retries} retries)",
    ]
    if d["seconds_per_1000"] is not None:
        lines.append(f"  seconds per 1,000:   {d['seconds_per_1000']:.0f} (call time), "
                     f"{d['wall_seconds_per_1000']:.0f} (wall clock)")  # fmt: skip
    if d["position_consistency"] is not None:
        lines.append(f"  position consistency: {d['position_consistency']:.3f} "
                     f"({s.consistent}/{s.both_orders} agree in both orders)")  # fmt: skip
    return "\n".join(lines)
