//! The schema's Postgres enums as TypeScript string-literal unions
//! (procedures.md §2.1), for the generated types only: the columns are read
//! and written as text, and the input parsers check the values. Fields of
//! these types are `String`s in Rust, typed with `#[ts(as = "...")]`.

#![allow(non_camel_case_types)]

use ts_rs::TS;

/// Prisma enum `RoadmapStatus` (milestones, quarterly goals, key results).
#[derive(TS)]
pub enum RoadmapStatus {
    NOT_STARTED,
    IN_PROGRESS,
    COMPLETED,
    AT_RISK,
}

/// Prisma enum `HealthStatus` (the dimensions of a health assessment).
#[derive(TS)]
pub enum HealthStatus {
    RED,
    YELLOW,
    GREEN,
}
