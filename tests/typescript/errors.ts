// Wrong uses of the API that the generated types must reject. Each
// `@ts-expect-error` covers the one statement below it; tsc fails on any
// that is not needed, so a type that became too loose shows up here.
// Compiled by `tsc --noEmit` in CI, never run.

import { client } from "./calls";

const projectId = "cm4p0q1r20000abcdproject1";
const personId = "cm4p0q1r20000abcdperson01";
const departmentId = "cm4p0q1r20000abcddepartm1";

/** Never called: only type-checked. */
export async function wrongUses(): Promise<void> {
  // ── inputs: a required key missing ────────────────────────────────────
  // @ts-expect-error email is required
  await client.person.create.mutate({ firstName: "Grace", lastName: "Hopper" });
  // @ts-expect-error departmentId is required for a team member (unlike a person)
  await client.teamMember.create.mutate({ projectId, firstName: "Ada", lastName: "Lovelace", email: "ada@example.com" });
  // @ts-expect-error content is required
  await client.personComment.update.mutate({ id: "cm4p0q1r20000abcdcomment1" });
  // @ts-expect-error the input object is required even when all its keys are optional
  await client.managerChange.getRecent.query();

  // ── inputs: a key of the wrong type ───────────────────────────────────
  // @ts-expect-error ids are strings
  await client.project.getById.query({ id: 42 });
  // @ts-expect-error targetValue is a number
  await client.keyResult.create.mutate({ title: "Uptime", targetValue: "99.9", milestoneId: "cm4p0q1r20000abcdmilesto1" });
  // @ts-expect-error pageSize is a number
  await client.person.list.query({ pageSize: "25" });
  // @ts-expect-error ids is an array of strings
  await client.title.reorder.mutate({ ids: "cm4p0q1r20000abcdtitle001" });
  // @ts-expect-error a date input is a Date (what zod's coerce.date() types as its input), not a string
  await client.meeting.create.mutate({ personId, date: "2026-03-15", content: {} });

  // ── inputs: an unknown key in an object literal ───────────────────────
  // @ts-expect-error colour is not a key (it is color)
  await client.department.create.mutate({ name: "Platform", colour: "#3b82f6" });

  // ── inputs: null where only an absent key is accepted ─────────────────
  // @ts-expect-error description is optional, not nullable
  await client.project.create.mutate({ name: "Atlas", description: null });
  // @ts-expect-error a dimension status is optional, not nullable
  await client.healthAssessment.create.mutate({ projectId, overallStatus: "GREEN", growthStatus: null });
  // @ts-expect-error managerId takes a string or "", never null
  await client.person.update.mutate({ id: personId, firstName: "Grace", lastName: "Hopper", email: "grace@example.com", managerId: null });

  // ── inputs: enums ─────────────────────────────────────────────────────
  // @ts-expect-error DONE is not a RoadmapStatus (COMPLETED is)
  await client.milestone.update.mutate({ id: "cm4p0q1r20000abcdmilesto1", title: "Beta", status: "DONE" });
  // @ts-expect-error enum values are upper case
  await client.healthAssessment.update.mutate({ id: "cm4p0q1r20000abcdhealth01", overallStatus: "green" });

  // ── inputs: a procedure without input ─────────────────────────────────
  // @ts-expect-error person.me takes no input
  await client.person.me.query({ id: personId });

  // ── procedures that do not exist, or called the wrong way ─────────────
  // @ts-expect-error there is no project.archive
  await client.project.archive.mutate({ id: projectId });
  // @ts-expect-error the router is department, not role (only its table is called roles)
  await client.role.getAll.query();
  // @ts-expect-error project.create is a mutation
  await client.project.create.query({ name: "Atlas" });
  // @ts-expect-error person.getAll is a query
  await client.person.getAll.mutate();
  // @ts-expect-error department.merge is a mutation
  await client.department.merge.query({ keepId: departmentId, mergeIds: [] });

  // ── outputs ───────────────────────────────────────────────────────────
  const detail = await client.project.getById.query({ id: projectId });
  // @ts-expect-error a project has a name, not a title
  const projectTitle: string | undefined = detail?.title;
  // @ts-expect-error project.getById answers null for an unknown id
  const projectName: string = detail.name;
  // @ts-expect-error roadmap items come two levels deep: a child has no children
  const grandchildren: unknown = detail?.milestones[0]?.children[0]?.children;
  const me = await client.person.me.query();
  // @ts-expect-error callsign is nullable
  const callsign: string | undefined = me?.callsign;
  const meeting = await client.meeting.getById.query({ id: "cm4p0q1r20000abcdmeeting1" });
  // @ts-expect-error dates arrive as ISO strings: there is no transformer
  const meetingDate: Date = meeting.date;
  const page = await client.project.list.query({});
  // @ts-expect-error totalCount is a number
  const total: string = page.totalCount;
  const milestones = await client.milestone.getByProjectId.query({ projectId });
  const status = milestones[0]?.status;
  // @ts-expect-error a status is one of the RoadmapStatus literals, not any string
  const done = status === "DONE";
  const assigned = await client.milestone.setAssignees.mutate({ milestoneId: "cm4p0q1r20000abcdmilesto1", personIds: [personId] });
  // @ts-expect-error setAssignees answers nothing
  const assignedCount: number = assigned.length;
}
