"""Dask: the replicates of a run on a Dask cluster (`ionmc run ... --dask | --scheduler`).

`dask_executor()` gives runner.run a `concurrent.futures.Executor` backed by a Dask client,
on an embedded LocalCluster (one single-threaded worker process per core) or on an
existing cluster. Everything else (seeds, part files written by the workers and renamed
when whole, the manifest, resume) is runner.py's one code path, so the numbers are those of
a local run with the same seed. Dask is optional: `pip install 'ionmc[dask]'`.
"""
import concurrent.futures as cf
import logging
import os
from contextlib import contextmanager

from ionmc.errors import InputError

#: seconds to wait for an existing scheduler to answer, and for it to have a worker
CONNECT_TIMEOUT_S = 5
WORKER_TIMEOUT_S = 10


class DaskExecutor(cf.Executor):
    """`concurrent.futures.Executor` over a `distributed.Client`.

    `Client.get_executor()` does the same and runner.run accepts it, but when its futures
    are cancelled (Ctrl-C) while the client closes, its relay coroutine logs a traceback
    (FutureCancelledError) now and then; this relays through `Future.add_done_callback`,
    which waits for the final state, and stays quiet."""

    def __init__(self, client):
        self.client = client
        self._futures = set()

    def submit(self, fn, *args, **kwargs):
        out = cf.Future()
        fut = self.client.submit(fn, *args, pure=False, **kwargs)
        self._futures.add(fut)

        def relay(f):
            self._futures.discard(f)
            if out.done():
                return
            try:
                if f.status == "finished":
                    out.set_result(f.result())
                elif f.status == "cancelled":
                    if out.cancel():
                        out.set_running_or_notify_cancel()
                else:
                    out.set_exception(f.exception())
            except cf.InvalidStateError:  # cancelled here meanwhile
                pass
            except BaseException as exc:  # the client went away while fetching
                if not out.done():
                    out.set_exception(exc)

        def cancel(c):
            if c.cancelled():
                fut.cancel()

        out.add_done_callback(cancel)
        fut.add_done_callback(relay)
        return out

    def shutdown(self, wait=True, *, cancel_futures=False):
        if cancel_futures:
            self.client.cancel(list(self._futures))


def require(option):
    """Import distributed, or one clear InputError naming the option that needed it."""
    try:
        import distributed
    except ImportError:
        raise InputError(option, None, "needs Dask, which is not installed: "
                         "install ionmc[dask] (pip install 'ionmc[dask]')") from None
    return distributed


def _identity():
    """(version, digest of the sources, where they are) of the ionmc imported here, as
    read when it was imported (a worker that stays up keeps the code it imported)."""
    from pathlib import Path

    import ionmc
    from ionmc import numba_conf

    return (ionmc.__version__, getattr(numba_conf, "SOURCE_DIGEST", None),
            str(Path(ionmc.__file__).resolve().parent))


def _check_workers(client, where):
    """Every worker must import the same ionmc as this process, sources and all (same
    numbers, and a manifest that tells the truth about the version)."""
    mine = _identity()

    got = client.run(_by_value(_identity), on_error="return")
    for addr, theirs in sorted(got.items()):
        if isinstance(theirs, BaseException):
            raise InputError(where, None, f"worker {addr} cannot import ionmc "
                             f"({type(theirs).__name__}: {theirs}); install it on every worker")
        if theirs[0] != mine[0]:
            raise InputError(where, None, f"worker {addr} has ionmc {theirs[0]}, this is "
                             f"{mine[0]}; install the same version on every worker")
        if theirs[1] != mine[1]:
            raise InputError(where, None, f"worker {addr} runs other ionmc sources "
                             f"({theirs[1]} in {theirs[2]}) than this process ({mine[1]} in "
                             f"{mine[2]}); install the same ionmc on every worker (and "
                             "restart workers after an update)")


def _by_value(func):
    """A copy of a module-level function that pickles by value (not as a reference to
    ionmc.cluster, which a worker without ionmc could not import)."""
    import types

    return types.FunctionType(func.__code__, {"__builtins__": __builtins__}, func.__name__)


def _probe(distributed, address, timeout):
    """Raise InputError unless a Dask scheduler answers at `address` within `timeout` s.

    Done with a bare connection first because a Client that fails to connect leaves a
    traceback at exit (its __del__ times out closing itself)."""
    import asyncio

    where = f"--scheduler {address}"
    try:
        scheme, loc = distributed.comm.parse_address(address)
        if scheme in ("tcp", "tls"):
            distributed.comm.parse_host_port(loc)
    except (ValueError, TypeError) as exc:
        raise InputError(where, None, f"not a scheduler address like tcp://HOST:8786 "
                         f"({exc})") from None

    async def hello():
        comm = await distributed.comm.connect(address, timeout=timeout)
        try:
            reply = await asyncio.wait_for(
                _call(comm, {"op": "identity"}), timeout)
        finally:
            comm.abort()
        if not isinstance(reply, dict) or "Scheduler" not in str(reply.get("type")):
            raise OSError(f"answered {str(reply)[:60]!r}, not a Dask scheduler")

    async def _call(comm, msg):
        await comm.write(msg)
        return await comm.read()

    try:
        asyncio.run(asyncio.wait_for(hello(), 2 * timeout))
    except Exception as exc:  # refused, timed out, or something else answered
        raise InputError(where, None, f"no Dask scheduler answers within {timeout} s "
                         f"({type(exc).__name__}: {str(exc)[:100]}); is `dask scheduler` "
                         "running there?") from None


@contextmanager
def dask_executor(workers=None, scheduler=None, connect_timeout=CONNECT_TIMEOUT_S):
    """Yield (executor, label): a Dask `Client.get_executor()` and a line for the manifest.

    scheduler=None: an embedded `distributed.LocalCluster` with `workers` (default: one per
    core) single-threaded worker processes, closed on exit. Otherwise the address of a
    running scheduler ("tcp://HOST:PORT"); an unreachable one is an InputError after
    `connect_timeout` seconds, before anything is written.
    """
    option = "--dask" if scheduler is None else "--scheduler"
    distributed = require(option)
    cluster = None
    if scheduler is None:
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
            # no dashboard; its HTTP server on a free port, not on a taken 8787 (a warning).
            # Quiet: a worker busy while the cluster closes (Ctrl-C) logs heartbeat errors;
            # what matters (a replicate's exception) comes back through its future.
            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.CRITICAL)
        label = f"dask LocalCluster {cluster.scheduler_address}"
        where = "--dask"
    else:
        if workers is not None:
            raise InputError("--workers", None, "not with --scheduler: the cluster's "
                             "workers are started with `dask worker`")
        label = f"dask scheduler {scheduler}"
        where = f"--scheduler {scheduler}"
        _probe(distributed, scheduler, connect_timeout)
    try:
        try:
            client = distributed.Client(cluster if cluster is not None else scheduler,
                                        timeout=connect_timeout, set_as_default=False)
        except Exception as exc:
            raise InputError(where, None, f"cannot connect to the Dask scheduler within "
                             f"{connect_timeout} s ({type(exc).__name__}: {str(exc)[:100]})"
                             "; is `dask scheduler` running there?") from None
        try:
            if cluster is None:
                try:
                    client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
                except TimeoutError:
                    raise InputError(where, None, f"the scheduler has no workers after "
                                     f"{WORKER_TIMEOUT_S} s; start some with `dask worker "
                                     f"{scheduler}`") from None
            _check_workers(client, where)
            n = len(client.scheduler_info(n_workers=-1)["workers"])
            yield DaskExecutor(client), f"{label} ({n} workers)"
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
