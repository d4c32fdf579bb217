//! Router `milestone` (procedures.md §4.8): the roadmap procedures of
//! [`super::roadmap`] over table `milestones`.

use crate::db::roadmap::{self as roadmap_views, RoadmapTable, MILESTONES};
use crate::trpc::Registry;

use super::roadmap::{self, Roadmap};
use super::Ctx;

/// Router `milestone`.
pub struct Milestone;

impl Roadmap for Milestone {
    const TABLE: &'static RoadmapTable = &MILESTONES;
    type Row = roadmap_views::Milestone;
    type Node = roadmap_views::MilestoneNode;
    type Detail = roadmap_views::MilestoneDetail;
    const GET_BY_PROJECT_ID: &'static str = "milestone.getByProjectId";
    const GET_BY_ID: &'static str = "milestone.getById";
    const CREATE: &'static str = "milestone.create";
    const UPDATE: &'static str = "milestone.update";
    const DELETE: &'static str = "milestone.delete";
    const SET_ASSIGNEES: &'static str = "milestone.setAssignees";
}

pub fn register(r: &mut Registry<Ctx>) {
    roadmap::register::<Milestone>(r);
}
