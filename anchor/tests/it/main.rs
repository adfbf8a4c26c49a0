//! Tests of the anchoring jobs that need a database but no chain, each on SQLite and PostgreSQL.

mod epoch_scores;
