// The generated `AppRouter` used the way the web app uses it: through
// @trpc/tanstack-react-query's `createTRPCContext` (`useTRPC()`, then
// `queryOptions` / `mutationOptions` handed to @tanstack/react-query's hooks),
// with the versions the original's lockfile resolves (see package.json).
// Compiled by `tsc --noEmit` in CI, never run: no JSX, no DOM, no server.
// Outputs go into annotated consts, so a wrong, missing or nullable key fails
// the build; the `@ts-expect-error`s at the end fail it when they stop being
// errors.

import {
  QueryClient,
  useMutation,
  useQuery,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { createElement } from "react";
import type { AppRouter, JsonValue, PersonFull } from "../../types/enghub-api";

export const { TRPCProvider, useTRPC } = createTRPCContext<AppRouter>();

// Prop types derived from the router, for components handed server-fetched data.
// (The web app at aa8f156 writes its prop interfaces by hand; these are what a
// consumer of the generated file would write instead.)
type RouterOutputs = inferRouterOutputs<AppRouter>;
type RouterInputs = inferRouterInputs<AppRouter>;
type ProjectDetailOutput = RouterOutputs["project"]["getById"];
type MilestoneCreateInput = RouterInputs["milestone"]["create"];
type MilestoneUpdateInput = RouterInputs["milestone"]["update"];
type RoadmapStatus = MilestoneUpdateInput["status"];

const projectId = "cm4p0q1r20000abcdproject1";
const personId = "cm4p0q1r20000abcdperson01";
const meetingId = "cm4p0q1r20000abcdmeeting1";
const templateId = "cm4p0q1r20000abcdtemplat1";
const milestoneId = "cm4p0q1r20000abcdmilesto1";
const toast = (message: string): void => void message;
// Form state, as the components hold it.
declare const selectedTemplateId: string;
declare const newUnit: string;

/** The app's provider tree (as lib/trpc/client.tsx builds it), without JSX. */
export function providerTree() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: 30 * 1000 } } });
  const trpcClient = createTRPCClient<AppRouter>({
    links: [httpBatchLink({ url: "/api/trpc" })],
  });
  return createElement(TRPCProvider, { trpcClient, queryClient, children: null });
}

/** Never called: only type-checked. Hooks, so named like one. */
export function useEverything(): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();

  // 1. person.me (people-table, person-comments, direct-reports): nullable.
  const meQuery = useQuery(trpc.person.me.queryOptions());
  const myPersonId: string | null = meQuery.data?.id ?? null;
  const canComment: boolean = meQuery.data?.clerkUserId != null;
  const directReportEmail: string | undefined = (meQuery.data?.directReports ?? [])[0]?.email;
  void meQuery.refetch();

  // 2. The same query under Suspense (not used by apps/web): data is never
  //    undefined, still null when no person is claimed.
  const me: PersonFull | null = useSuspenseQuery(trpc.person.me.queryOptions()).data;

  // 3. meeting.getById (one-on-ones/[meetingId]): dates arrive as strings.
  const meetingQuery = useQuery(trpc.meeting.getById.queryOptions({ id: meetingId }));
  const meetingDate: string | undefined = meetingQuery.data?.date;
  const meetingContent: JsonValue | undefined = meetingQuery.data?.content;
  const meetingTemplateId: string | null | undefined = meetingQuery.data?.templateId;

  // 4. meeting.getMyMeetings + meeting.delete with a refetch (one-on-ones).
  const meetingsQuery = useQuery(trpc.meeting.getMyMeetings.queryOptions());
  const byPerson = new Map<string, string>();
  for (const m of meetingsQuery.data ?? []) byPerson.set(m.person.id, m.person.firstName);
  const deleteMeeting = useMutation(
    trpc.meeting.delete.mutationOptions({
      onSuccess: (deleted) => {
        const deletedId: string = deleted.id;
        void meetingsQuery.refetch();
      },
      onError: (error) => toast(error.message),
    }),
  );
  deleteMeeting.mutate({ id: meetingId });

  // 5. meetingTemplate.getById with query options (meeting-form).
  const templateQuery = useQuery(
    trpc.meetingTemplate.getById.queryOptions({ id: templateId }, { enabled: !!templateId }),
  );
  const templateContent: JsonValue | undefined = templateQuery.data?.content;

  // 6. meeting.create / meeting.update: the date goes up as a Date.
  const createMeeting = useMutation(trpc.meeting.create.mutationOptions());
  createMeeting.mutate({ personId, date: new Date(), content: {}, templateId: selectedTemplateId || undefined });
  const updateMeeting = useMutation(trpc.meeting.update.mutationOptions());
  updateMeeting.mutate({ id: meetingId, date: new Date("2026-03-15"), content: { type: "doc" } });

  // 7. team.getByProjectId spread into useQuery with `enabled` (add-to-project-dialog).
  const teamsQuery = useQuery({
    ...trpc.team.getByProjectId.queryOptions({ projectId }),
    enabled: !!projectId,
  });
  const teamMembers: number | undefined = teamsQuery.data?.[0]?._count.memberships;

  // 8. person.joinProject.
  const join = useMutation(trpc.person.joinProject.mutationOptions({ onSuccess: () => toast("added") }));
  join.mutate({ personId, projectId, teamIds: [] });

  // 9. milestone.getByProjectId as parent options (milestone-sheet).
  const milestonesQuery = useQuery(trpc.milestone.getByProjectId.queryOptions({ projectId }));
  const parentOptions: { value: string; label: string }[] = (milestonesQuery.data ?? [])
    .filter((m) => m.id !== milestoneId)
    .map((m) => ({ value: m.id, label: m.title }));
  const firstTargetDate: string | null | undefined = milestonesQuery.data?.[0]?.targetDate;

  // 10. milestone.create, whose onSuccess sets assignees from the new id.
  const setAssignees = useMutation(trpc.milestone.setAssignees.mutationOptions());
  const createMilestone = useMutation(
    trpc.milestone.create.mutationOptions({
      onSuccess: async (data) => {
        // (A void output reaches clients as `never`, tRPC's Serialize<void>, as in the original.)
        await setAssignees.mutateAsync({ milestoneId: data.id, personIds: [personId] });
      },
    }),
  );
  const newMilestone: MilestoneCreateInput = { projectId, title: "Beta", targetDate: new Date("2026-06-30") };
  createMilestone.mutate(newMilestone);

  // 11. milestone.update with a Date targetDate (and null to clear it).
  const updateMilestone = useMutation(trpc.milestone.update.mutationOptions());
  updateMilestone.mutate({ id: milestoneId, title: "Beta", targetDate: new Date("2026-07-01"), status: "IN_PROGRESS" });
  updateMilestone.mutate({ id: milestoneId, title: "Beta", targetDate: null, status: "AT_RISK", parentId: null });

  // 12. project.getById, read down to a key result (apps/web reads it through
  //     the server caller; the output type is the same).
  const projectQuery = useQuery(trpc.project.getById.queryOptions({ id: projectId }));
  const firstKrValue: number | undefined = projectQuery.data?.milestones[0]?.keyResults[0]?.currentValue;
  const project: ProjectDetailOutput | undefined = projectQuery.data;
  const projectName: string | undefined = project?.name;

  // 13. Invalidation by key and by path (apps/web refetches or refreshes instead).
  void queryClient.invalidateQueries({ queryKey: trpc.project.getById.queryKey({ id: projectId }) });
  void queryClient.invalidateQueries(trpc.milestone.pathFilter());

  // 14. keyResult.create / update / delete (key-results-editor).
  const createKr = useMutation(trpc.keyResult.create.mutationOptions());
  createKr.mutate({ title: "Uptime", targetValue: 99.9, unit: newUnit.trim() || undefined, milestoneId, quarterlyGoalId: undefined });
  const updateKr = useMutation(trpc.keyResult.update.mutationOptions());
  const status: RoadmapStatus = "COMPLETED";
  updateKr.mutate({ id: "kr1", title: "Uptime", targetValue: 99.9, currentValue: 99.95, unit: undefined, status });
  const deleteKr = useMutation(trpc.keyResult.delete.mutationOptions());
  const deletingId: string | null = deleteKr.isPending ? (deleteKr.variables?.id ?? null) : null;

  // 15. arrangement.create: navigate to the new arrangement's id.
  const createArrangement = useMutation(
    trpc.arrangement.create.mutationOptions({ onSuccess: (data) => toast(`/projects/${projectId}/arrangements/${data.id}`) }),
  );
  createArrangement.mutate({ projectId, name: "Q3 layout" });

  // 16. githubStats.getByProjectId + syncNow (stats-section).
  const statsQuery = useQuery(trpc.githubStats.getByProjectId.queryOptions({ projectId }));
  const lastSyncAt: string | null | undefined = statsQuery.data?.sync?.lastSyncAt;
  const syncStatus: string | undefined = statsQuery.data?.sync?.syncStatus;
  const memberFirstName: string | undefined = statsQuery.data?.memberMap["octocat"]?.firstName;
  const sync = useMutation(trpc.githubStats.syncNow.mutationOptions({ onSuccess: (r) => void r.success }));
  sync.mutate({ projectId });

  // 17. personComment.getByPersonId + create (person-comments).
  const commentsQuery = useQuery(trpc.personComment.getByPersonId.queryOptions({ personId }));
  const authorName: string | undefined = commentsQuery.data?.[0]?.author.firstName;
  useMutation(trpc.personComment.create.mutationOptions()).mutate({ personId, content: "Great quarter." });

  // 18. title.reorder (department-manager).
  useMutation(trpc.title.reorder.mutationOptions()).mutate({ ids: ["t2", "t1"] });

  // 19. A mutation error carries the zod issues of a BAD_REQUEST (apps/web
  //     only reads error.message).
  useMutation(
    trpc.department.create.mutationOptions({
      onError: (error) => {
        const nameErrors: string[] | undefined = error.data?.zodError?.fieldErrors["name"];
        const code: string | undefined = error.data?.code;
      },
    }),
  );

  // ── Wrong uses that must not compile ─────────────────────────────────
  // @ts-expect-error milestone.update is a mutation: it has no queryOptions
  useQuery(trpc.milestone.update.queryOptions({ id: milestoneId, title: "Beta", status: "IN_PROGRESS" }));
  // @ts-expect-error project.getById is a query: it has no mutationOptions (tRPC types it `undefined`)
  useMutation(trpc.project.getById.mutationOptions());
  // @ts-expect-error project.getById takes { id }, not { projectId }
  useQuery(trpc.project.getById.queryOptions({ projectId }));
  // @ts-expect-error the sync status is lastSyncAt, not lastSyncedAt
  const lastSynced = statsQuery.data?.sync?.lastSyncedAt;
  // @ts-expect-error a date input is a Date, not a string
  const stringDate: MilestoneCreateInput = { projectId, title: "Beta", targetDate: "2026-06-30" };
  // @ts-expect-error without a transformer an output date is a string, not a Date
  const dateOut: Date | null | undefined = milestonesQuery.data?.[0]?.targetDate;
  // @ts-expect-error milestone.update requires a status (create defaults it)
  updateMilestone.mutate({ id: milestoneId, title: "Beta" });
  // @ts-expect-error person.me is null when no person is claimed, even under Suspense
  const claimed: PersonFull = useSuspenseQuery(trpc.person.me.queryOptions()).data;
}
