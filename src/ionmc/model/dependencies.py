"""The dependency graph of the exact methods (Gibson & Bruck 2000): for each transition,
the transitions whose propensity can change when it fires."""
import numpy as np


def dependency_graph(model):
    """(dep_ptr, dep_idx) in CSR form. What a propensity reads comes from its mechanism
    (`Mechanism.reads`: counts and membrane potentials); what a firing writes is its
    applied stoichiometry and every free membrane whose inside charge it changes."""
    reads = [model.mechs[model.tr_mech[j]].reads(model, j) for j in range(model.nt)]
    # who reads what, so that each transition's dependents are a union of lists (one
    # agent per block makes nt large: the pairwise test was O(nt^2) set operations)
    readers = {}
    for k, r in enumerate(reads):
        for key in r:
            readers.setdefault(key, []).append(k)
    ptr, ind = [0], []
    # a membrane's charge: for each state index, the free membranes that count it
    qx = model.mem_qx.tocsc()
    counted_by = [[int(m) for m in qx.indices[qx.indptr[i]:qx.indptr[i + 1]]
                   if not model.mem_clamped[m]] for i in range(model.nx)]
    for j in range(model.nt):
        moved = model.st_idx[model.st_ptr[j]:model.st_ptr[j + 1]]
        w = {("x", int(i)) for i in moved}
        # any charged index it moves (even when the charges cancel, as they did before
        # bound ions counted: the graph, and so the trajectories, unchanged). Read on the
        # indices it moves (its applied stoichiometry's nonzeros, st_idx), not over all nx
        # per membrane: that was O(nt x membranes x nx), 89 of a 103 s build of a
        # 300-unit tissue (benchmarks/profile_tissue.py)
        for i in moved:
            w.update(("V", m) for m in counted_by[i])
        deps = sorted(set().union(*(readers.get(key, ()) for key in w)))
        ind += deps
        ptr.append(len(ind))
    return np.array(ptr, np.int64), np.array(ind, np.int64)
