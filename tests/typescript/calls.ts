// Every procedure of the API called the way the web app calls it, through
// @trpc/client 11 and the generated `AppRouter`. Compiled by `tsc --noEmit`
// in CI, never run: a wrong input type or a misread output fails the build.
// Outputs are assigned to annotated consts, so a key that is missing, renamed,
// nullable or of another type is an error, not an implicit `any`.

import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { AppRouter } from "../../types/enghub-api";

export const client = createTRPCClient<AppRouter>({
  links: [httpBatchLink({ url: "http://127.0.0.1:3000/api/trpc" })],
});

type RoadmapStatus = "NOT_STARTED" | "IN_PROGRESS" | "COMPLETED" | "AT_RISK";
type HealthStatus = "RED" | "YELLOW" | "GREEN";

// Ids as the web app has them: cuids read from earlier responses.
const projectId = "cm4p0q1r20000abcdproject1";
const otherProjectId = "cm4p0q1r20000abcdproject2";
const personId = "cm4p0q1r20000abcdperson01";
const managerId = "cm4p0q1r20000abcdperson02";
const departmentId = "cm4p0q1r20000abcddepartm1";
const titleId = "cm4p0q1r20000abcdtitle001";
const teamId = "cm4p0q1r20000abcdteam0001";
const teamMemberId = "cm4p0q1r20000abcdmember01";
const arrangementId = "cm4p0q1r20000abcdarrange1";
const arrangementTeamId = "cm4p0q1r20000abcdarrteam1";
const milestoneId = "cm4p0q1r20000abcdmilesto1";
const goalId = "cm4p0q1r20000abcdqgoal001";
const templateId = "cm4p0q1r20000abcdtemplat1";

// A rich-text (Tiptap) document, as the editors send it.
const doc = {
  type: "doc",
  content: [{ type: "paragraph", content: [{ type: "text", text: "Went well." }] }],
};

/**
 * Takes only the answer of a procedure that answers nothing: tRPC types a
 * `void` output as `never` on the client (as for the original's `Promise<void>`
 * resolvers), so any other answer type fails here.
 */
function answersNothing<T>(_answer: [T] extends [never] ? T : "this procedure answers a value"): void {}

/** Never called: only type-checked. */
export async function everyProcedure(): Promise<void> {
  // ── health ────────────────────────────────────────────────────────────
  const ping = await client.health.ping.query();
  const pingStatus: string = ping.status;
  const pingAt: Date = new Date(ping.timestamp);

  // ── department ────────────────────────────────────────────────────────
  const departments = await client.department.getAll.query();
  const deptName: string | undefined = departments[0]?.name;
  const deptColor: string | null | undefined = departments[0]?.color;
  const deptPeople: number | undefined = departments[0]?._count.people;
  const deptFirstTitle: string | undefined = departments[0]?.titles[0]?.name;
  const deptTitleOrder: number | undefined = departments[0]?.titles[0]?.sortOrder;

  const dept = await client.department.create.mutate({ name: "Platform", color: "#3b82f6" });
  const deptId: string = dept.id;
  const updatedDept = await client.department.update.mutate({ id: deptId, name: "Platform Eng" });
  const updatedDeptColor: string | null = updatedDept.color;
  const deletedDept = await client.department.delete.mutate({ id: deptId });
  const deletedDeptName: string = deletedDept.name;
  const merged = await client.department.merge.mutate({
    keepId: departmentId,
    mergeIds: ["cm4p0q1r20000abcddepartm2", "cm4p0q1r20000abcddepartm3"],
  });
  answersNothing(merged);

  // ── title ─────────────────────────────────────────────────────────────
  const titles = await client.title.getAll.query();
  const titleName: string | undefined = titles[0]?.name;
  const titleDept: string | null | undefined = titles[0]?.department?.name;
  const titleDeptId: string | null | undefined = titles[0]?.departmentId;
  const titlePeople: number | undefined = titles[0]?._count.people;

  const title = await client.title.create.mutate({ name: "Staff Engineer", departmentId });
  const titleSort: number = title.sortOrder;
  const updatedTitle = await client.title.update.mutate({ id: title.id, name: "Staff Engineer II", departmentId: "" });
  const updatedTitleDept: string | null = updatedTitle.departmentId;
  const deletedTitle = await client.title.delete.mutate({ id: title.id });
  const deletedTitleId: string = deletedTitle.id;
  const reordered = await client.title.reorder.mutate({ ids: [titleId, "cm4p0q1r20000abcdtitle002"] });
  const firstReordered: number | undefined = reordered[0]?.sortOrder;
  const titlesMerged = await client.title.merge.mutate({ keepId: titleId, mergeIds: ["cm4p0q1r20000abcdtitle003"] });
  answersNothing(titlesMerged);

  // ── project ───────────────────────────────────────────────────────────
  const projects = await client.project.getAll.query();
  const projectName: string | undefined = projects[0]?.name;
  const latestHealth: HealthStatus | undefined = projects[0]?.healthAssessments[0]?.overallStatus;
  const projectCreated: string | undefined = projects[0]?.createdAt;

  // page and pageSize default (1, 10).
  const projectPage = await client.project.list.query({ search: "atlas" });
  const projectTotal: number = projectPage.totalCount;
  const projectRowUrl: string | null | undefined = projectPage.items[0]?.githubUrl;
  const projectRowHealth: number | undefined = projectPage.items[0]?.healthAssessments.length;

  const detail = await client.project.getById.query({ id: projectId });
  const detailName: string | undefined = detail?.name;
  const krValue: number | undefined = detail?.milestones[0]?.keyResults[0]?.currentValue;
  const krTarget: number | undefined = detail?.milestones[0]?.keyResults[0]?.targetValue;
  const krUnit: string | null | undefined = detail?.milestones[0]?.keyResults[0]?.unit;
  // Roadmap trees come two levels deep: children carry no `children` key.
  const childMilestone: string | undefined = detail?.milestones[0]?.children[0]?.title;
  const childTarget: string | null | undefined = detail?.milestones[0]?.children[0]?.targetDate;
  const milestoneAssignee: string | undefined = detail?.milestones[0]?.assignments[0]?.person.firstName;
  const goalQuarter: string | null | undefined = detail?.quarterlyGoals[0]?.quarter;
  const goalStatus: RoadmapStatus | undefined = detail?.quarterlyGoals[0]?.status;
  const teamName: string | undefined = detail?.teams[0]?.name;
  const memberTitle: string | null | undefined = detail?.teamMembers[0]?.person.title?.name;
  const memberDept: string | null | undefined = detail?.teamMembers[0]?.person.department?.name;
  const memberTeam: string | undefined = detail?.teamMembers[0]?.teamMemberships[0]?.team.name;
  const linkUrl: string | undefined = detail?.links[0]?.url;
  const assessmentNotes: unknown = detail?.healthAssessments[0]?.overallNotes;
  const vibe: HealthStatus | null | undefined = detail?.healthAssessments[0]?.engineeringVibeStatus;

  const created = await client.project.create.mutate({
    name: "Atlas",
    description: "Billing platform rewrite",
    githubUrl: "https://github.com/acme/atlas",
    gitlabUrl: "",
  });
  const createdGithub: string | null = created.githubUrl;
  const updated = await client.project.update.mutate({ id: created.id, name: "Atlas 2", imageUrl: "https://cdn.example.com/atlas.png" });
  const updatedAt: string = updated.updatedAt;
  const deletedProject = await client.project.delete.mutate({ id: created.id });
  const deletedProjectName: string = deletedProject.name;

  // ── projectLink ───────────────────────────────────────────────────────
  const links = await client.projectLink.getByProjectId.query({ projectId });
  const firstLabel: string | undefined = links[0]?.label;
  const link = await client.projectLink.getById.query({ id: "cm4p0q1r20000abcdlink0001" });
  const linkProject: string | undefined = link?.projectId;
  const newLink = await client.projectLink.create.mutate({ projectId, label: "Runbook", url: "https://wiki.example.com/runbook" });
  const newLinkId: string = newLink.id;
  const changedLink = await client.projectLink.update.mutate({ id: newLinkId, label: "Runbook (v2)", url: "https://wiki.example.com/runbook-v2" });
  const changedLabel: string = changedLink.label;
  const removedLink = await client.projectLink.delete.mutate({ id: newLinkId });
  const removedUrl: string = removedLink.url;

  // ── healthAssessment ──────────────────────────────────────────────────
  const assessments = await client.healthAssessment.getByProjectId.query({ projectId });
  const assessmentAuthor: string | undefined = assessments[0]?.authorId;
  const growth: HealthStatus | null | undefined = assessments[0]?.growthStatus;
  const assessment = await client.healthAssessment.getById.query({ id: "cm4p0q1r20000abcdhealth01" });
  const overall: HealthStatus = assessment.overallStatus;
  const margin: HealthStatus | null = assessment.marginStatus;
  const assessed: string = assessment.createdAt;
  const newAssessment = await client.healthAssessment.create.mutate({
    projectId,
    overallStatus: "YELLOW",
    overallNotes: doc,
    growthStatus: "GREEN",
    clientSatisfactionStatus: "RED",
    clientSatisfactionNotes: doc,
  });
  const assessmentProject: string = newAssessment.projectId;
  const changedAssessment = await client.healthAssessment.update.mutate({
    id: newAssessment.id,
    overallStatus: "GREEN",
    designVibeStatus: "GREEN",
    designVibeNotes: doc,
  });
  const changedAssessmentId: string = changedAssessment.id;
  const removedAssessment = await client.healthAssessment.delete.mutate({ id: newAssessment.id });
  const removedAssessmentId: string = removedAssessment.id;

  // ── team ──────────────────────────────────────────────────────────────
  const teams = await client.team.getByProjectId.query({ projectId });
  const teamSize: number | undefined = teams[0]?._count.memberships;
  const team = await client.team.getById.query({ id: teamId });
  const teamDescription: string | null | undefined = team?.description;
  const newTeam = await client.team.create.mutate({ projectId, name: "Payments", description: "", imageUrl: "https://cdn.example.com/payments.png" });
  const newTeamProject: string = newTeam.projectId;
  const renamedTeam = await client.team.update.mutate({ id: newTeam.id, name: "Payments Core", description: "Ledger and payouts" });
  const renamedTeamImage: string | null = renamedTeam.imageUrl;
  const removedTeam = await client.team.delete.mutate({ id: newTeam.id });
  const removedTeamName: string = removedTeam.name;

  // ── teamMember ────────────────────────────────────────────────────────
  const members = await client.teamMember.getByProjectId.query({ projectId });
  const memberManager: string | undefined = members[0]?.person.manager?.firstName;
  const memberEmail: string | undefined = members[0]?.person.email;
  const memberTeams: number | undefined = members[0]?.teamMemberships.length;
  const member = await client.teamMember.getById.query({ id: teamMemberId });
  const memberTitleDept: string | null | undefined = member?.person.title?.department?.name;
  const orgTree = await client.teamMember.getOrgTree.query({ projectId });
  const treeManagerId: string | null | undefined = orgTree[0]?.person.managerId;
  const treeManagerImage: string | null | undefined = orgTree[0]?.person.manager?.imageUrl;
  const newMember = await client.teamMember.create.mutate({
    projectId,
    firstName: "Ada",
    lastName: "Lovelace",
    email: "ada@example.com",
    departmentId,
    titleId: "",
    teamIds: [teamId],
    githubUsername: "ada",
    managerId,
  });
  const newMemberPerson: string = newMember.personId;
  const changedMember = await client.teamMember.update.mutate({
    id: newMember.id,
    firstName: "Ada",
    lastName: "King",
    callsign: "Countess",
    email: "ada@example.com",
    departmentId,
    titleId,
    teamIds: [],
    imageUrl: "",
  });
  const changedMemberProject: string = changedMember.projectId;
  const removedMember = await client.teamMember.delete.mutate({ id: newMember.id });
  const removedMemberId: string = removedMember.id;

  // ── person ────────────────────────────────────────────────────────────
  const people = await client.person.getAll.query();
  const reportEmail: string | undefined = people[0]?.directReports[0]?.email;
  const membershipProject: string | undefined = people[0]?.projectMemberships[0]?.project.name;
  const assignedMilestone: RoadmapStatus | undefined = people[0]?.milestoneAssignments[0]?.milestone.status;
  const assignedMilestoneProject: string | undefined = people[0]?.milestoneAssignments[0]?.milestone.project.name;
  const assignedGoalQuarter: string | null | undefined = people[0]?.quarterlyGoalAssignments[0]?.quarterlyGoal.quarter;

  const peoplePage = await client.person.list.query({ page: 1, pageSize: 10, search: "ada" });
  const peopleTotal: number = peoplePage.totalCount;
  const listedName: string | undefined = peoplePage.items[0]?.lastName;
  const listedTeam: string | undefined = peoplePage.items[0]?.projectMemberships[0]?.teamMemberships[0]?.team.name;

  const person = await client.person.getById.query({ id: personId });
  const personManager: string | undefined = person?.manager?.lastName;
  const personGithub: string | null | undefined = person?.githubUsername;

  const me = await client.person.me.query();
  const myId: string | undefined = me?.id;
  const myName: string | undefined = me?.firstName;
  const myCallsign: string | null | undefined = me?.callsign;
  const myClerkId: string | null | undefined = me?.clerkUserId;
  const myTitle: string | undefined = me?.title?.name;
  const myReports: number | undefined = me?.directReports.length;
  const myFirstReport: string | undefined = me?.directReports[0]?.id;

  const newPerson = await client.person.create.mutate({
    firstName: "Grace",
    lastName: "Hopper",
    email: "grace@example.com",
    callsign: "",
    githubUsername: "grace",
    managerId,
    departmentId,
    titleId,
  });
  const newPersonEmail: string = newPerson.email;
  const changedPerson = await client.person.update.mutate({
    id: newPerson.id,
    firstName: "Grace",
    lastName: "Hopper",
    email: "grace.hopper@example.com",
    imageUrl: "https://cdn.example.com/grace.png",
    managerId: "",
  });
  const changedPersonManager: string | null = changedPerson.managerId;
  const removedPerson = await client.person.delete.mutate({ id: newPerson.id });
  const removedPersonCreated: string = removedPerson.createdAt;

  const joined = await client.person.joinProject.mutate({ personId, projectId, teamIds: [teamId] });
  const joinedProject: string = joined.projectId;
  const moved = await client.person.moveToProject.mutate({ personId, fromProjectId: projectId, toProjectId: otherProjectId });
  const movedProject: string = moved.projectId;
  const left = await client.person.leaveProject.mutate({ personId, projectId: otherProjectId });
  answersNothing(left);

  const claimed = await client.person.claimAsMe.mutate({ personId });
  const claimedBy: string | null = claimed.clerkUserId;
  const unclaimed = await client.person.unclaimMe.mutate();
  answersNothing(unclaimed);

  // ── managerChange ─────────────────────────────────────────────────────
  const history = await client.managerChange.getByPersonId.query({ personId });
  const historyBy: string | undefined = history[0]?.changedBy;
  const historyOld: string | null | undefined = history[0]?.oldManagerId;
  // The input object is required even though its only key is optional.
  const recent = await client.managerChange.getRecent.query({});
  const recentNew: string | undefined = recent[0]?.newManager?.firstName;
  const recentSubject: string | undefined = recent[0]?.person.lastName;
  const projectHistory = await client.managerChange.getByProjectId.query({ projectId, limit: 5 });
  const projectHistoryOld: string | undefined = projectHistory[0]?.oldManager?.lastName;

  // ── meeting ───────────────────────────────────────────────────────────
  const myMeetings = await client.meeting.getMyMeetings.query();
  const meetingWith: string | undefined = myMeetings[0]?.person.firstName;
  const meetingTemplateName: string | undefined = myMeetings[0]?.template?.name;
  const meetingDate: string | undefined = myMeetings[0]?.date;
  const about = await client.meeting.getByPersonId.query({ personId });
  const aboutAuthor: string | undefined = about[0]?.authorId;
  // Unlike project/person/team getById, an unknown id is NOT_FOUND, not null.
  const meeting = await client.meeting.getById.query({ id: "cm4p0q1r20000abcdmeeting1" });
  const meetingContent: unknown = meeting.content;
  const meetingTemplateId: string | null = meeting.templateId;
  const meetingSubject: string | null = meeting.person.callsign;
  const newMeeting = await client.meeting.create.mutate({
    personId,
    date: new Date("2026-03-15T10:00:00Z"),
    content: doc,
    templateId,
  });
  const newMeetingId: string = newMeeting.id;
  const changedMeeting = await client.meeting.update.mutate({ id: newMeetingId, date: new Date("2026-03-16"), content: doc });
  const changedMeetingId: string = changedMeeting.id;
  const removedMeeting = await client.meeting.delete.mutate({ id: newMeetingId });
  const removedMeetingId: string = removedMeeting.id;

  // ── meetingTemplate ───────────────────────────────────────────────────
  const templates = await client.meetingTemplate.getAll.query();
  const templateDescription: string | null | undefined = templates[0]?.description;
  const templateUpdated: string | undefined = templates[0]?.updatedAt;
  const template = await client.meetingTemplate.getById.query({ id: templateId });
  const templateContent: unknown = template.content;
  const templateAuthor: string = template.authorId;
  const newTemplate = await client.meetingTemplate.create.mutate({ name: "Weekly 1:1", description: "Wins, blockers, growth", content: doc });
  const newTemplateId: string = newTemplate.id;
  const changedTemplate = await client.meetingTemplate.update.mutate({ id: newTemplateId, name: "Weekly 1:1 (short)", content: doc });
  const changedTemplateId: string = changedTemplate.id;
  const removedTemplate = await client.meetingTemplate.delete.mutate({ id: newTemplateId });
  const removedTemplateId: string = removedTemplate.id;

  // ── personComment ─────────────────────────────────────────────────────
  const comments = await client.personComment.getByPersonId.query({ personId });
  const commentAuthor: string | undefined = comments[0]?.author.firstName;
  const commentAuthorImage: string | null | undefined = comments[0]?.author.imageUrl;
  const comment = await client.personComment.create.mutate({ personId, content: "Led the incident review calmly." });
  const commentText: string = comment.content;
  const commentBy: string = comment.author.lastName;
  const editedComment = await client.personComment.update.mutate({ id: comment.id, content: "Led the incident review." });
  const editedAt: string = editedComment.updatedAt;
  const removedComment = await client.personComment.delete.mutate({ id: comment.id });
  const removedCommentId: string = removedComment.id;

  // ── milestone ─────────────────────────────────────────────────────────
  const milestones = await client.milestone.getByProjectId.query({ projectId });
  const milestoneTarget: string | null | undefined = milestones[0]?.targetDate;
  const milestoneKr: string | undefined = milestones[0]?.keyResults[0]?.title;
  const milestoneChildStatus: RoadmapStatus | undefined = milestones[0]?.children[0]?.status;
  const milestone = await client.milestone.getById.query({ id: milestoneId });
  const milestoneParent: string | undefined = milestone?.parent?.title;
  const milestoneAssigneeImage: string | null | undefined = milestone?.assignments[0]?.person.imageUrl;
  const newMilestone = await client.milestone.create.mutate({
    projectId,
    title: "Public beta",
    description: "Open sign-ups",
    targetDate: new Date("2026-06-30"),
    parentId: milestoneId,
  });
  const newMilestoneStatus: RoadmapStatus = newMilestone.status;
  const changedMilestone = await client.milestone.update.mutate({
    id: newMilestone.id,
    title: "Public beta",
    status: "IN_PROGRESS",
    targetDate: null,
    parentId: null,
    sortOrder: 2,
  });
  const changedMilestoneParent: string | null = changedMilestone.parentId;
  const removedMilestone = await client.milestone.delete.mutate({ id: newMilestone.id });
  const removedMilestoneProject: string = removedMilestone.projectId;
  const milestoneAssigned = await client.milestone.setAssignees.mutate({ milestoneId, personIds: [personId, managerId] });
  answersNothing(milestoneAssigned);

  // ── quarterlyGoal ─────────────────────────────────────────────────────
  const goals = await client.quarterlyGoal.getByProjectId.query({ projectId });
  const goalTitle: string | undefined = goals[0]?.title;
  const goalKrStatus: RoadmapStatus | undefined = goals[0]?.keyResults[0]?.status;
  const goal = await client.quarterlyGoal.getById.query({ id: goalId });
  const goalParent: string | null | undefined = goal?.parentId;
  const goalChildQuarter: string | null | undefined = goal?.children[0]?.quarter;
  const newGoal = await client.quarterlyGoal.create.mutate({
    projectId,
    title: "Cut p95 latency by 30%",
    quarter: "Q2 2026",
    status: "NOT_STARTED",
    sortOrder: 0,
  });
  const newGoalQuarter: string | null = newGoal.quarter;
  const changedGoal = await client.quarterlyGoal.update.mutate({
    id: newGoal.id,
    title: "Cut p95 latency by 40%",
    status: "AT_RISK",
    quarter: "Q3 2026",
    targetDate: new Date("2026-09-30"),
  });
  const changedGoalTarget: string | null = changedGoal.targetDate;
  const removedGoal = await client.quarterlyGoal.delete.mutate({ id: newGoal.id });
  const removedGoalTitle: string = removedGoal.title;
  const goalAssigned = await client.quarterlyGoal.setAssignees.mutate({ quarterlyGoalId: goalId, personIds: [] });
  answersNothing(goalAssigned);

  // ── keyResult ─────────────────────────────────────────────────────────
  const kr = await client.keyResult.create.mutate({ title: "Checkout conversion", targetValue: 4.5, unit: "%", milestoneId });
  const krStatus: RoadmapStatus = kr.status;
  const krMilestone: string | null = kr.milestoneId;
  const krOrder: number = kr.sortOrder;
  const changedKr = await client.keyResult.update.mutate({ id: kr.id, title: "Checkout conversion", targetValue: 5, currentValue: 3.2, status: "IN_PROGRESS" });
  const changedKrProject: string | undefined = changedKr.milestone?.projectId ?? changedKr.quarterlyGoal?.projectId;
  const changedKrValue: number = changedKr.currentValue;
  const removedKr = await client.keyResult.delete.mutate({ id: kr.id });
  const removedKrGoal: string | null = removedKr.quarterlyGoalId;

  // ── githubStats ───────────────────────────────────────────────────────
  const stats = await client.githubStats.getByProjectId.query({ projectId });
  const topContributor: string | undefined = stats.stats[0]?.githubUsername;
  const topCommits: number | undefined = stats.stats[0]?.commits;
  const weekly: number | undefined = stats.stats[0]?.avgWeeklyCommits;
  const period: string | undefined = stats.stats[0]?.period;
  const lastSync: string | null | undefined = stats.sync?.lastSyncAt;
  const mapped: string | undefined = stats.memberMap["ada"]?.personId;
  const mappedCallsign: string | null | undefined = stats.memberMap["ada@example.com"]?.callsign;
  const syncStatus = await client.githubStats.getSyncStatus.query({ projectId });
  const syncState: string | undefined = syncStatus?.syncStatus;
  const syncError: string | null | undefined = syncStatus?.syncError;
  const synced = await client.githubStats.syncNow.mutate({ projectId });
  const syncedOk: boolean = synced.success;

  // ── arrangement ───────────────────────────────────────────────────────
  const arrangements = await client.arrangement.getByProjectId.query({ projectId });
  const arrangementActive: boolean | undefined = arrangements[0]?.isActive;
  const arrangedCount: number | undefined = arrangements[0]?.teams[0]?._count.assignments;
  const arrangement = await client.arrangement.getById.query({ id: arrangementId });
  const arrangementTeam: string | undefined = arrangement.teams[0]?.name;
  const assignedPerson: string | undefined = arrangement.teams[0]?.assignments[0]?.teamMember.person.firstName;
  const unassignedTitle: string | null | undefined = arrangement.unassignedMembers[0]?.person.title?.name;
  const draft = await client.arrangement.create.mutate({ projectId, name: "Q3 reorg" });
  const draftActive: boolean = draft.isActive;
  const renamedDraft = await client.arrangement.update.mutate({ id: draft.id, name: "Q3 reorg (v2)" });
  const renamedDraftName: string = renamedDraft.name;
  const copy = await client.arrangement.clone.mutate({ sourceArrangementId: draft.id, name: "Q3 reorg (copy)" });
  const copyProject: string = copy.projectId;
  const fromLive = await client.arrangement.cloneFromLive.mutate({ projectId, name: "Today" });
  const fromLiveCreated: string = fromLive.createdAt;
  const active = await client.arrangement.ensureActiveArrangement.mutate({ projectId });
  const activeId: string = active.id;
  const newArrangementTeam = await client.arrangement.addTeam.mutate({ arrangementId: draft.id, name: "Growth" });
  const newArrangementTeamOrder: number = newArrangementTeam.sortOrder;
  const renamedArrangementTeam = await client.arrangement.updateTeam.mutate({ teamId: newArrangementTeam.id, name: "Growth & Activation" });
  const renamedLiveTeam: string | null = renamedArrangementTeam.liveTeamId;
  const order = await client.arrangement.reorderTeams.mutate({ arrangementId: draft.id, teamIds: [newArrangementTeam.id, arrangementTeamId] });
  const firstOrdered: string | undefined = order[0]?.id;
  const assignment = await client.arrangement.assignMember.mutate({ arrangementTeamId: newArrangementTeam.id, teamMemberId });
  const assignmentTeam: string = assignment.arrangementTeamId;
  const move = await client.arrangement.moveMember.mutate({ teamMemberId, fromTeamId: newArrangementTeam.id, toTeamId: arrangementTeamId });
  const moveTeam: string = move.arrangementTeamId;
  const unassigned = await client.arrangement.unassignMember.mutate({ teamMemberId, arrangementTeamId });
  answersNothing(unassigned);
  const removedArrangementTeam = await client.arrangement.deleteTeam.mutate({ teamId: newArrangementTeam.id });
  const removedArrangementTeamName: string = removedArrangementTeam.name;
  const activated = await client.arrangement.activate.mutate({ id: draft.id });
  answersNothing(activated);
  const removedDraft = await client.arrangement.delete.mutate({ id: copy.id });
  const removedDraftUpdated: string = removedDraft.updatedAt;
}
