-- At most one active arrangement per project, enforced by the database (procedures.md §9 item 16).
-- An existing eng-hub database may already hold several active arrangements for one project: the
-- most recently updated one (ties: the later id) stays active, the others become drafts, and the
-- migration says how many it changed.
DO $$
DECLARE
    changed integer;
BEGIN
    WITH ranked AS (
        SELECT id, row_number() OVER (
                   PARTITION BY project_id ORDER BY updated_at DESC, id DESC) AS rank
        FROM team_arrangements WHERE is_active
    ), off AS (
        UPDATE team_arrangements a SET is_active = false
        FROM ranked r WHERE r.id = a.id AND r.rank > 1
        RETURNING a.id
    ), unlinked AS (
        UPDATE arrangement_teams t SET live_team_id = NULL
        FROM off WHERE t.arrangement_id = off.id AND t.live_team_id IS NOT NULL
    )
    SELECT count(*) INTO changed FROM off;
    RAISE NOTICE '0004_one_active_arrangement: % extra active arrangement(s) deactivated', changed;
END $$;

CREATE UNIQUE INDEX IF NOT EXISTS "team_arrangements_project_id_active_key"
    ON "team_arrangements"("project_id") WHERE "is_active";
