-- Pending cache invalidations (not in the original). A mutation whose invalidation
-- could not reach Upstash after its commit records the keys here; the next request of
-- any instance that reaches Upstash deletes them (in its first pipeline) and then
-- removes the rows, so no cached read outlives an outage by more than the poll
-- interval. Keys are stored without the deployment prefix (e.g. `departments:all`).
-- Idempotent like 0001; Prisma never reads it.
CREATE TABLE IF NOT EXISTS "cache_outbox" (
    "id" BIGSERIAL NOT NULL,
    -- The key without `{prefix}:`; its generation and fill lock sit beside it.
    "key" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "cache_outbox_pkey" PRIMARY KEY ("id")
);
