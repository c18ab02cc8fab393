-- Many writers (a DuckLake lake): a run left 'running' is aborted by the next run on the same host
-- only when its process is gone; other hosts' workers may still be running theirs.
ALTER TABLE ingest_runs ADD COLUMN host VARCHAR;
ALTER TABLE ingest_runs ADD COLUMN pid INTEGER;
-- On a laptop (agentledger ship): the batch file a run's records were shipped as, NULL until shipped.
ALTER TABLE ingest_runs ADD COLUMN shipped_as VARCHAR;
-- A shipped batch in the manifest: the stable hashed id of the machine that shipped it.
ALTER TABLE source_files ADD COLUMN host_id VARCHAR;
