"""``python -m events.fold``: one worker of a rebuild folded in parts (:mod:`events.parts`).

It reads its job from its standard input (the import path, then a pickled mapping: the
database, the projections, the store's upcasters, their fresh tables' generations, its share of
the parts, the position to fold up to, the batch size, how many workers there are), folds that
share into the fresh tables (:meth:`events.projections.ProjectionRunner.fold_share`), and says
on its standard output the position it has folded up to after each batch (``at N``), the
rebuild's target last. A failure is a traceback on its standard error and a non-zero exit.
"""

from __future__ import annotations

import gc
import pickle
import sys

from .backends import connect
from .projections import ProjectionRunner
from .store import EventStore


def main() -> None:
    """Run the job given on standard input."""
    sys.path[:] = pickle.load(sys.stdin.buffer)
    job = pickle.load(sys.stdin.buffer)
    # as in the whole fold: many objects, no reference cycles (see ProjectionRunner.rebuild)
    gc.disable()
    store = EventStore(connect(job["database"]), upcasters=job["upcasters"])
    try:
        runner = ProjectionRunner(store, job["projections"], batch_size=job["batch_size"])
        runner.fold_share(job["generations"], job["parts"], job["target"], job["workers"],
                          progress=lambda done, _: print(f"at {done}", flush=True))
    finally:
        store.close()


if __name__ == "__main__":
    main()
