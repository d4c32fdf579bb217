//! Router `quarterlyGoal` (procedures.md §4.13): the roadmap procedures of
//! [`super::roadmap`] over table `quarterly_goals` (which adds `quarter`).

use crate::db::roadmap::{self as roadmap_views, RoadmapTable, QUARTERLY_GOALS};
use crate::trpc::Registry;

use super::roadmap::{self, Roadmap};
use super::Ctx;

/// Router `quarterlyGoal`.
pub struct QuarterlyGoal;

impl Roadmap for QuarterlyGoal {
    const TABLE: &'static RoadmapTable = &QUARTERLY_GOALS;
    type Row = roadmap_views::QuarterlyGoal;
    type Node = roadmap_views::QuarterlyGoalNode;
    type Detail = roadmap_views::QuarterlyGoalDetail;
    const GET_BY_PROJECT_ID: &'static str = "quarterlyGoal.getByProjectId";
    const GET_BY_ID: &'static str = "quarterlyGoal.getById";
    const CREATE: &'static str = "quarterlyGoal.create";
    const UPDATE: &'static str = "quarterlyGoal.update";
    const DELETE: &'static str = "quarterlyGoal.delete";
    const SET_ASSIGNEES: &'static str = "quarterlyGoal.setAssignees";
}

pub fn register(r: &mut Registry<Ctx>) {
    roadmap::register::<QuarterlyGoal>(r);
}
