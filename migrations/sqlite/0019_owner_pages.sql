-- Pages of a platform's own API keys and of a platform's or a worker's evidence tasks, newest
-- task first. Append-only: never edit a migration that has shipped.
CREATE INDEX api_keys_platform ON api_keys (platform_id, id);
CREATE INDEX evidence_tasks_platform_id ON evidence_tasks (platform_id, id);
CREATE INDEX evidence_tasks_worker_id ON evidence_tasks (worker_ref, id);
