-- eng-hub schema, as `prisma db push` creates it from packages/db/prisma/schema.prisma
-- (sotomaque/eng-hub at aa8f156): same tables, columns, types, defaults and constraint names.
--
-- This migration must also apply cleanly to an EXISTING eng-hub database that Prisma created
-- (no _sqlx_migrations table yet). Hence every statement is idempotent:
--   * enum types are created inside a DO block guarded by a pg_type lookup;
--   * tables use CREATE TABLE IF NOT EXISTS, with their primary and foreign keys declared inline,
--     so an existing table (and its Prisma-made constraints) is left exactly as it is;
--   * indexes use CREATE [UNIQUE] INDEX IF NOT EXISTS with Prisma's names, so Prisma's own
--     unique indexes are recognised and skipped.
-- Beyond the original, every foreign-key column that is not the leading column of a primary key
-- or unique index gets a plain index named <table>_<column>_idx (Prisma creates none on
-- Postgres); these are the only objects added to a Prisma-created database.
--
-- Tables are created parents first, because the foreign keys are declared inline.

-- Enums -------------------------------------------------------------------------------------

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typname = 'HealthStatus' AND n.nspname = current_schema()
    ) THEN
        CREATE TYPE "HealthStatus" AS ENUM ('RED', 'YELLOW', 'GREEN');
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typname = 'RoadmapStatus' AND n.nspname = current_schema()
    ) THEN
        CREATE TYPE "RoadmapStatus" AS ENUM ('NOT_STARTED', 'IN_PROGRESS', 'COMPLETED', 'AT_RISK');
    END IF;
END
$$;

-- Tables ------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS "projects" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "github_url" TEXT,
    "gitlab_url" TEXT,
    "image_url" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "projects_pkey" PRIMARY KEY ("id")
);

-- Model Department; the table keeps its historical name.
CREATE TABLE IF NOT EXISTS "roles" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "color" TEXT,
    CONSTRAINT "roles_pkey" PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "teams" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "image_url" TEXT,
    "project_id" TEXT NOT NULL,
    CONSTRAINT "teams_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "teams_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "health_assessments" (
    "id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "author_id" TEXT NOT NULL,
    "overall_status" "HealthStatus" NOT NULL,
    "overall_notes" JSONB,
    "growth_status" "HealthStatus",
    "growth_notes" JSONB,
    "margin_status" "HealthStatus",
    "margin_notes" JSONB,
    "longevity_status" "HealthStatus",
    "longevity_notes" JSONB,
    "client_satisfaction_status" "HealthStatus",
    "client_satisfaction_notes" JSONB,
    "engineering_vibe_status" "HealthStatus",
    "engineering_vibe_notes" JSONB,
    "product_vibe_status" "HealthStatus",
    "product_vibe_notes" JSONB,
    "design_vibe_status" "HealthStatus",
    "design_vibe_notes" JSONB,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "health_assessments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "health_assessments_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "titles" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "department_id" TEXT,
    CONSTRAINT "titles_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "titles_department_id_fkey" FOREIGN KEY ("department_id")
        REFERENCES "roles"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "people" (
    "id" TEXT NOT NULL,
    "first_name" TEXT NOT NULL,
    "last_name" TEXT NOT NULL,
    "callsign" TEXT,
    "email" TEXT NOT NULL,
    "github_username" TEXT,
    "gitlab_username" TEXT,
    "image_url" TEXT,
    "clerk_user_id" TEXT,
    "manager_id" TEXT,
    "role_id" TEXT,
    "title_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "people_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "people_manager_id_fkey" FOREIGN KEY ("manager_id")
        REFERENCES "people"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "people_role_id_fkey" FOREIGN KEY ("role_id")
        REFERENCES "roles"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "people_title_id_fkey" FOREIGN KEY ("title_id")
        REFERENCES "titles"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

-- Append-only history. old/new manager have no explicit onDelete in Prisma: SET NULL is
-- Prisma's default for an optional relation.
CREATE TABLE IF NOT EXISTS "manager_changes" (
    "id" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "old_manager_id" TEXT,
    "new_manager_id" TEXT,
    "changed_by" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "manager_changes_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "manager_changes_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "manager_changes_old_manager_id_fkey" FOREIGN KEY ("old_manager_id")
        REFERENCES "people"("id") ON DELETE SET NULL ON UPDATE CASCADE,
    CONSTRAINT "manager_changes_new_manager_id_fkey" FOREIGN KEY ("new_manager_id")
        REFERENCES "people"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "team_members" (
    "id" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    CONSTRAINT "team_members_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "team_members_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "team_members_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "team_memberships" (
    "id" TEXT NOT NULL,
    "team_id" TEXT NOT NULL,
    "team_member_id" TEXT NOT NULL,
    CONSTRAINT "team_memberships_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "team_memberships_team_id_fkey" FOREIGN KEY ("team_id")
        REFERENCES "teams"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "team_memberships_team_member_id_fkey" FOREIGN KEY ("team_member_id")
        REFERENCES "team_members"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "milestones" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "target_date" TIMESTAMP(3),
    "status" "RoadmapStatus" NOT NULL DEFAULT 'NOT_STARTED',
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "project_id" TEXT NOT NULL,
    "parent_id" TEXT,
    CONSTRAINT "milestones_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "milestones_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "milestones_parent_id_fkey" FOREIGN KEY ("parent_id")
        REFERENCES "milestones"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "quarterly_goals" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT,
    "quarter" TEXT,
    "target_date" TIMESTAMP(3),
    "status" "RoadmapStatus" NOT NULL DEFAULT 'NOT_STARTED',
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    "project_id" TEXT NOT NULL,
    "parent_id" TEXT,
    CONSTRAINT "quarterly_goals_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "quarterly_goals_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "quarterly_goals_parent_id_fkey" FOREIGN KEY ("parent_id")
        REFERENCES "quarterly_goals"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "project_links" (
    "id" TEXT NOT NULL,
    "label" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    CONSTRAINT "project_links_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "project_links_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "team_arrangements" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "is_active" BOOLEAN NOT NULL DEFAULT false,
    "project_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "team_arrangements_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "team_arrangements_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "arrangement_teams" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "arrangement_id" TEXT NOT NULL,
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "live_team_id" TEXT,
    CONSTRAINT "arrangement_teams_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "arrangement_teams_arrangement_id_fkey" FOREIGN KEY ("arrangement_id")
        REFERENCES "team_arrangements"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "arrangement_teams_live_team_id_fkey" FOREIGN KEY ("live_team_id")
        REFERENCES "teams"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "arrangement_assignments" (
    "id" TEXT NOT NULL,
    "arrangement_team_id" TEXT NOT NULL,
    "team_member_id" TEXT NOT NULL,
    CONSTRAINT "arrangement_assignments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "arrangement_assignments_arrangement_team_id_fkey" FOREIGN KEY ("arrangement_team_id")
        REFERENCES "arrangement_teams"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "arrangement_assignments_team_member_id_fkey" FOREIGN KEY ("team_member_id")
        REFERENCES "team_members"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "github_syncs" (
    "id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "last_sync_at" TIMESTAMP(3),
    "sync_status" TEXT NOT NULL DEFAULT 'idle',
    "sync_error" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "github_syncs_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "github_syncs_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "contributor_stats" (
    "id" TEXT NOT NULL,
    "project_id" TEXT NOT NULL,
    "github_username" TEXT NOT NULL,
    "period" TEXT NOT NULL,
    "commits" INTEGER NOT NULL DEFAULT 0,
    "prs_opened" INTEGER NOT NULL DEFAULT 0,
    "prs_merged" INTEGER NOT NULL DEFAULT 0,
    "reviews_done" INTEGER NOT NULL DEFAULT 0,
    "additions" INTEGER NOT NULL DEFAULT 0,
    "deletions" INTEGER NOT NULL DEFAULT 0,
    "avg_weekly_commits" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "recent_weekly_commits" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "trend" TEXT NOT NULL DEFAULT 'stable',
    "avg_weekly_reviews" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "recent_weekly_reviews" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "review_trend" TEXT NOT NULL DEFAULT 'stable',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "contributor_stats_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "contributor_stats_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "meeting_templates" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "content" JSONB NOT NULL DEFAULT '{}',
    "author_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "meeting_templates_pkey" PRIMARY KEY ("id")
);

CREATE TABLE IF NOT EXISTS "meetings" (
    "id" TEXT NOT NULL,
    "date" TIMESTAMP(3) NOT NULL,
    "content" JSONB NOT NULL DEFAULT '{}',
    "author_id" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "template_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "meetings_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "meetings_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "meetings_template_id_fkey" FOREIGN KEY ("template_id")
        REFERENCES "meeting_templates"("id") ON DELETE SET NULL ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "person_comments" (
    "id" TEXT NOT NULL,
    "content" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "author_id" TEXT NOT NULL,
    "author_person_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "person_comments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "person_comments_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "person_comments_author_person_id_fkey" FOREIGN KEY ("author_person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "milestone_assignments" (
    "id" TEXT NOT NULL,
    "milestone_id" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "milestone_assignments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "milestone_assignments_milestone_id_fkey" FOREIGN KEY ("milestone_id")
        REFERENCES "milestones"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "milestone_assignments_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE IF NOT EXISTS "quarterly_goal_assignments" (
    "id" TEXT NOT NULL,
    "quarterly_goal_id" TEXT NOT NULL,
    "person_id" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "quarterly_goal_assignments_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "quarterly_goal_assignments_quarterly_goal_id_fkey" FOREIGN KEY ("quarterly_goal_id")
        REFERENCES "quarterly_goals"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "quarterly_goal_assignments_person_id_fkey" FOREIGN KEY ("person_id")
        REFERENCES "people"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Belongs to exactly one milestone or goal; enforced by the API only, as in the original.
CREATE TABLE IF NOT EXISTS "key_results" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "target_value" DOUBLE PRECISION NOT NULL,
    "current_value" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "unit" TEXT,
    "status" "RoadmapStatus" NOT NULL DEFAULT 'NOT_STARTED',
    "sort_order" INTEGER NOT NULL DEFAULT 0,
    "milestone_id" TEXT,
    "quarterly_goal_id" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "key_results_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "key_results_milestone_id_fkey" FOREIGN KEY ("milestone_id")
        REFERENCES "milestones"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "key_results_quarterly_goal_id_fkey" FOREIGN KEY ("quarterly_goal_id")
        REFERENCES "quarterly_goals"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Unique indexes (Prisma's names; Prisma creates unique indexes, not constraints) -----------

CREATE UNIQUE INDEX IF NOT EXISTS "roles_name_key" ON "roles"("name");
CREATE UNIQUE INDEX IF NOT EXISTS "titles_name_key" ON "titles"("name");
CREATE UNIQUE INDEX IF NOT EXISTS "people_email_key" ON "people"("email");
CREATE UNIQUE INDEX IF NOT EXISTS "people_clerk_user_id_key" ON "people"("clerk_user_id");
CREATE UNIQUE INDEX IF NOT EXISTS "team_members_person_id_project_id_key"
    ON "team_members"("person_id", "project_id");
CREATE UNIQUE INDEX IF NOT EXISTS "team_memberships_team_id_team_member_id_key"
    ON "team_memberships"("team_id", "team_member_id");
CREATE UNIQUE INDEX IF NOT EXISTS "arrangement_teams_live_team_id_key"
    ON "arrangement_teams"("live_team_id");
CREATE UNIQUE INDEX IF NOT EXISTS "arrangement_assignments_arrangement_team_id_team_member_id_key"
    ON "arrangement_assignments"("arrangement_team_id", "team_member_id");
CREATE UNIQUE INDEX IF NOT EXISTS "github_syncs_project_id_key" ON "github_syncs"("project_id");
CREATE UNIQUE INDEX IF NOT EXISTS "contributor_stats_project_id_github_username_period_key"
    ON "contributor_stats"("project_id", "github_username", "period");
CREATE UNIQUE INDEX IF NOT EXISTS "milestone_assignments_milestone_id_person_id_key"
    ON "milestone_assignments"("milestone_id", "person_id");
CREATE UNIQUE INDEX IF NOT EXISTS "quarterly_goal_assignments_quarterly_goal_id_person_id_key"
    ON "quarterly_goal_assignments"("quarterly_goal_id", "person_id");

-- Foreign-key indexes (not in the original) ---------------------------------------------------
-- Without them every ON DELETE CASCADE / SET NULL and every "children of X" query scans the
-- child table. FK columns already leading a unique index are covered and skipped:
-- team_members.person_id, team_memberships.team_id, arrangement_teams.live_team_id,
-- arrangement_assignments.arrangement_team_id, github_syncs.project_id,
-- contributor_stats.project_id, milestone_assignments.milestone_id,
-- quarterly_goal_assignments.quarterly_goal_id.

CREATE INDEX IF NOT EXISTS "teams_project_id_idx" ON "teams"("project_id");
CREATE INDEX IF NOT EXISTS "health_assessments_project_id_idx" ON "health_assessments"("project_id");
CREATE INDEX IF NOT EXISTS "titles_department_id_idx" ON "titles"("department_id");
CREATE INDEX IF NOT EXISTS "people_manager_id_idx" ON "people"("manager_id");
CREATE INDEX IF NOT EXISTS "people_role_id_idx" ON "people"("role_id");
CREATE INDEX IF NOT EXISTS "people_title_id_idx" ON "people"("title_id");
CREATE INDEX IF NOT EXISTS "manager_changes_person_id_idx" ON "manager_changes"("person_id");
CREATE INDEX IF NOT EXISTS "manager_changes_old_manager_id_idx" ON "manager_changes"("old_manager_id");
CREATE INDEX IF NOT EXISTS "manager_changes_new_manager_id_idx" ON "manager_changes"("new_manager_id");
CREATE INDEX IF NOT EXISTS "team_members_project_id_idx" ON "team_members"("project_id");
CREATE INDEX IF NOT EXISTS "team_memberships_team_member_id_idx" ON "team_memberships"("team_member_id");
CREATE INDEX IF NOT EXISTS "milestones_project_id_idx" ON "milestones"("project_id");
CREATE INDEX IF NOT EXISTS "milestones_parent_id_idx" ON "milestones"("parent_id");
CREATE INDEX IF NOT EXISTS "quarterly_goals_project_id_idx" ON "quarterly_goals"("project_id");
CREATE INDEX IF NOT EXISTS "quarterly_goals_parent_id_idx" ON "quarterly_goals"("parent_id");
CREATE INDEX IF NOT EXISTS "project_links_project_id_idx" ON "project_links"("project_id");
CREATE INDEX IF NOT EXISTS "team_arrangements_project_id_idx" ON "team_arrangements"("project_id");
CREATE INDEX IF NOT EXISTS "arrangement_teams_arrangement_id_idx" ON "arrangement_teams"("arrangement_id");
CREATE INDEX IF NOT EXISTS "arrangement_assignments_team_member_id_idx"
    ON "arrangement_assignments"("team_member_id");
CREATE INDEX IF NOT EXISTS "meetings_person_id_idx" ON "meetings"("person_id");
CREATE INDEX IF NOT EXISTS "meetings_template_id_idx" ON "meetings"("template_id");
CREATE INDEX IF NOT EXISTS "person_comments_person_id_idx" ON "person_comments"("person_id");
CREATE INDEX IF NOT EXISTS "person_comments_author_person_id_idx" ON "person_comments"("author_person_id");
CREATE INDEX IF NOT EXISTS "milestone_assignments_person_id_idx" ON "milestone_assignments"("person_id");
CREATE INDEX IF NOT EXISTS "quarterly_goal_assignments_person_id_idx"
    ON "quarterly_goal_assignments"("person_id");
CREATE INDEX IF NOT EXISTS "key_results_milestone_id_idx" ON "key_results"("milestone_id");
CREATE INDEX IF NOT EXISTS "key_results_quarterly_goal_id_idx" ON "key_results"("quarterly_goal_id");
