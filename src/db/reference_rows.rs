//! The row types the `roles` (Department) and `titles` tables share: each
//! table's views embed the other's rows (`DepartmentView.titles`,
//! `TitleView.department`), so the rows live here and neither SQL module
//! depends on the other.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `Row(Department)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct Department {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
}

/// `{people: n}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PeopleCount {
    pub people: i64,
}

/// `Row(Title)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, TS)]
#[serde(rename_all = "camelCase")]
pub struct Title {
    pub id: String,
    pub name: String,
    pub sort_order: i32,
    pub department_id: Option<String>,
}
