//! Postgres: pool, embedded migrations, seed data, row types and SQL.
