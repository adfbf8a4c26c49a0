-- Shared rate limits are a PostgreSQL table (several replicas); one SQLite process keeps its
-- buckets in memory. This number is taken so that both engines count migrations alike.
SELECT 1;
