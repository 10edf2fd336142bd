"""Child process of the kill loop: label (and sometimes undo) as fast as it can, acknowledging each commit."""

from __future__ import annotations

import random
import sys

from tiebreak.core.labelling.session import LabellingSession, QueueSpec
from tiebreak.core.store import Store


def main(db: str, annotator: str, seed: int) -> None:
    """Print ``ACK rec ID`` / ``ACK undo ID`` only after the operation returned (committed)."""
    rng = random.Random(seed)
    store = Store(db)
    session = LabellingSession.open(store, QueueSpec(annotator, "ref", ("model",), seed=seed))
    last = None
    while session.current() is not None:
        if last is not None and rng.random() < 0.15:
            session.undo(last)
            print(f"ACK undo {last.row_id}", flush=True)
            last = None
            continue
        last = session.record(rng.choice(["left", "right", "tie_good", "tie_bad"]))
        print(f"ACK rec {last.row_id}", flush=True)
    print("EMPTY", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
