//! The search-page input and answer shared by `project.list` and
//! `person.list`.

use serde::Serialize;
use ts_rs::TS;

use crate::trpc::{FromInput, Input};

/// `{page?: int ≥ 1 = 1, pageSize?: int 1..=100 = 10, search?: str}`.
pub struct ListInput {
    page: i64,
    /// Rows per page.
    page_size: i64,
    /// Matched literally, case-insensitively (`""` matches everything).
    search: Option<String>,
}

impl ListInput {
    /// Rows skipped before this page (saturating for a huge `page`).
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.page_size)
    }

    /// `(search, offset, limit)`, the arguments of a `db` search page.
    pub fn page_args(&self) -> (Option<&str>, i64, i64) {
        (self.search.as_deref(), self.offset(), self.page_size)
    }
}

impl FromInput for ListInput {
    fn from_input(i: &mut Input) -> Self {
        Self {
            page: i.opt_int("page", Some(1), None).unwrap_or(1),
            page_size: i.opt_int("pageSize", Some(1), Some(100)).unwrap_or(10),
            search: i.opt_string("search"),
        }
    }
}

/// `{items: [T], totalCount}`: one page and the count of every match.
#[derive(Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub items: T,
    pub total_count: i64,
}
