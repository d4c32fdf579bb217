//! The schema's Postgres enums (procedures.md §2.1): their values, which the
//! input parsers accept, and the same values as TypeScript string-literal
//! unions for the generated types (a test keeps the two equal). The columns
//! are read and written as text; fields of these types are `String`s in
//! Rust, typed with `#[ts(as = "...")]`.

#![allow(non_camel_case_types)]

use ts_rs::TS;

/// The values of `RoadmapStatus`, in the schema's order.
pub const ROADMAP_STATUSES: &[&str] = &["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "AT_RISK"];

/// The values of `HealthStatus`, in the schema's order.
pub const HEALTH_STATUSES: &[&str] = &["RED", "YELLOW", "GREEN"];

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trpc::input::literal_union as union;

    /// The TypeScript unions list exactly the values the parsers accept.
    #[test]
    fn the_typescript_unions_are_the_accepted_values() {
        let cfg = crate::trpc::types::ts_config();
        assert_eq!(RoadmapStatus::inline(&cfg), union(ROADMAP_STATUSES));
        assert_eq!(HealthStatus::inline(&cfg), union(HEALTH_STATUSES));
    }
}
