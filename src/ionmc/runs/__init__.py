"""Runs: replicates in chunks, events, output columns, OUTDIRs, ensembles and Dask."""
