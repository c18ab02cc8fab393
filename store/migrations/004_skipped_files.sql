-- Files a run passed over because no source recognises them (org.csv, settings.json, ...):
-- counted, kept in the manifest as source 'unrecognised', but neither failures nor rejects.
ALTER TABLE ingest_runs ADD COLUMN files_skipped INTEGER DEFAULT 0;
