-- The weekly digest reads what each network decided in the week (storage/digests.py,
-- `Digests.decided`): over a year of history, a scan of every proposal. This index reads the
-- week's closed proposals only. Elections, far fewer, need none.
CREATE INDEX proposals_closed ON proposals(network_id, closed_at) WHERE status = 'closed';
