-- Run once by the postgres image when it creates the database (/docker-entrypoint-initdb.d/):
-- /slowqueries reads pg_stat_statements. The library itself is preloaded by the service's command
-- (shared_preload_libraries); the extension must also exist in the database Vigil inspects.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
