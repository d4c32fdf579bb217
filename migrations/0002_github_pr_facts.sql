-- Incremental GitHub sync (not in the original, which refetched the whole history on
-- every sync): what the last sync learnt, so the next one only asks for what changed.
-- Idempotent like 0001; neither table exists in a Prisma-created database, and Prisma
-- never reads them.

-- One row per project that was ever synced: the repository the facts belong to, the
-- contributor-statistics ETag with the answer it stands for, the PR watermark, the
-- position of an unfinished PR pass, and the sync lease.
CREATE TABLE IF NOT EXISTS "github_sync_state" (
    "project_id" TEXT NOT NULL,
    -- owner/repo the stored facts were read from; a changed URL discards them.
    "repo" TEXT NOT NULL,
    -- ETag of the last 200 from stats/contributors, sent back as If-None-Match.
    "stats_etag" TEXT,
    -- The contributors of that 200 (re-aggregated on 304: team and year change).
    "contributors" JSONB,
    -- Every PR updated at or after this instant is in github_pr_facts as of the last
    -- complete pass; the next pass stops at the first PR updated before it.
    "pr_watermark" TIMESTAMP(3),
    -- An unfinished pass (time budget ran out): where to continue, and the newest
    -- updatedAt it saw, which becomes the watermark once it completes.
    "pass_cursor" TEXT,
    "pass_newest" TIMESTAMP(3),
    -- The sync lease: one sync per project at a time; an expired lease (a crashed
    -- sync) can be taken over.
    "lease_token" TEXT,
    "lease_until" TIMESTAMP(3),
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "github_sync_state_pkey" PRIMARY KEY ("project_id"),
    CONSTRAINT "github_sync_state_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- Per pull request, what the aggregation needs.
CREATE TABLE IF NOT EXISTS "github_pr_facts" (
    "project_id" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    -- NULL for a deleted ("ghost") author: kept, never counted.
    "author" TEXT,
    "state" TEXT NOT NULL,
    "merged" BOOLEAN NOT NULL,
    "merged_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL,
    "updated_at" TIMESTAMP(3) NOT NULL,
    -- [{"login","createdAt"}] in GitHub's order (first 50, authorless dropped).
    "reviews" JSONB NOT NULL DEFAULT '[]',
    CONSTRAINT "github_pr_facts_pkey" PRIMARY KEY ("project_id", "number"),
    CONSTRAINT "github_pr_facts_project_id_fkey" FOREIGN KEY ("project_id")
        REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
