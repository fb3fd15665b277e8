"""Admin figures from a tally kept as learners progress, not from their progress rows.

- ``enrollment.lessons_touched`` / ``lessons_done``: the learner's visible lessons of the module touched and
  completed, kept by triggers on ``lesson_progress`` (a first touch, a completion, a removal) and on ``lesson``
  (a lesson published, hidden or moved: its module's counters counted again). A new enrollment starts from the
  progress already there.
- ``module_progress_tally`` / ``module_progress_change``: per module, how many active learners are at each
  number of completed lessons (and whether they started). A trigger on ``enrollment`` appends +1/-1 changes
  (inserts only: no learner waits on a shared row); the worker's maintenance folds them into the tally; a read
  sums the tally and the changes not folded yet. At 100k learners the figures read a few dozen rows instead of
  aggregating every enrollment and progress row (about 1.1 s).

Revision ID: 4e7a2c9b1d58
Revises: 8b3f5d2e7a61
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4e7a2c9b1d58"
down_revision = "8b3f5d2e7a61"
branch_labels = None
depends_on = None

VISIBLE = "(l.publication = 'published' OR (l.publication = 'scheduled' AND l.publish_at <= now()))"


def _execute_each(script: str) -> None:
    """Each statement of ``script`` on its own (asyncpg runs one statement per call); a statement ends with a line
    ending in ``;`` outside a ``$$`` body."""
    statement: list[str] = []
    quoted = False
    for line in script.splitlines():
        statement.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            op.execute("\n".join(statement))
            statement = []
    if "".join(statement).strip():
        op.execute("\n".join(statement))


def upgrade() -> None:
    op.add_column("enrollment", sa.Column("lessons_touched", sa.Integer(), server_default="0", nullable=False))
    op.add_column("enrollment", sa.Column("lessons_done", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "module_progress_tally",
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("lessons_done", sa.Integer(), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.Column("learners", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["module_id"], ["module.id"], name=op.f("fk_module_progress_tally_module_id_module"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("module_id", "lessons_done", "started", name=op.f("pk_module_progress_tally")),
    )
    op.create_table(
        "module_progress_change",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("module_id", sa.Uuid(), nullable=False),
        sa.Column("lessons_done", sa.Integer(), nullable=False),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["module_id"], ["module.id"], name=op.f("fk_module_progress_change_module_id_module"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_progress_change")),
    )
    # Each fold deletes every change: vacuumed soon after (autovacuum's next round) rather than at 20 % of
    # the table, so that reads do not wade through the folded changes' dead rows.
    op.execute(
        "ALTER TABLE module_progress_change SET (autovacuum_vacuum_scale_factor = 0, "
        "autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0, "
        "autovacuum_vacuum_insert_threshold = 10000)"
    )
    _execute_each(f"""
        CREATE FUNCTION enrollment_counters(learner uuid, module uuid, OUT touched integer, OUT done integer)
        LANGUAGE sql STABLE AS $$
            SELECT count(*)::integer, (count(*) FILTER (WHERE p.completed))::integer
            FROM lesson_progress p JOIN lesson l ON l.id = p.lesson_id
            WHERE p.user_id = learner AND l.module_id = module AND {VISIBLE}
        $$;

        -- The counters of every enrollment in ``modules``, counted again from the progress rows (set-based).
        CREATE FUNCTION recount_enrollments(modules uuid[]) RETURNS void LANGUAGE sql AS $$
            WITH counted AS (
                SELECT p.user_id, l.module_id, count(*)::integer AS touched,
                       (count(*) FILTER (WHERE p.completed))::integer AS done
                FROM lesson_progress p JOIN lesson l ON l.id = p.lesson_id
                WHERE l.module_id = ANY(modules) AND {VISIBLE}
                GROUP BY p.user_id, l.module_id
            )
            UPDATE enrollment e SET lessons_touched = coalesce(c.touched, 0), lessons_done = coalesce(c.done, 0)
            FROM enrollment s LEFT JOIN counted c ON c.user_id = s.user_id AND c.module_id = s.module_id
            WHERE e.id = s.id AND s.module_id = ANY(modules)
              AND (e.lessons_touched, e.lessons_done) IS DISTINCT FROM (coalesce(c.touched, 0), coalesce(c.done, 0))
        $$;

        -- A learner's progress row: its lesson's module's enrollment counts it (a visible lesson only).
        CREATE FUNCTION lesson_progress_count() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            module uuid;
            touched integer := 0;
            done integer := 0;
            learner uuid;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                touched := touched + CASE WHEN TG_OP = 'INSERT' THEN 1 ELSE 0 END;
                done := done + NEW.completed::integer;
                learner := NEW.user_id;
                SELECT l.module_id INTO module FROM lesson l WHERE l.id = NEW.lesson_id AND {VISIBLE};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                touched := touched - CASE WHEN TG_OP = 'DELETE' THEN 1 ELSE 0 END;
                done := done - OLD.completed::integer;
                learner := OLD.user_id;
                SELECT l.module_id INTO module FROM lesson l WHERE l.id = OLD.lesson_id AND {VISIBLE};
            END IF;
            IF module IS NOT NULL AND (touched <> 0 OR done <> 0) THEN
                UPDATE enrollment SET lessons_touched = lessons_touched + touched, lessons_done = lessons_done + done
                WHERE user_id = learner AND module_id = module;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER lesson_progress_counted AFTER INSERT OR DELETE ON lesson_progress
            FOR EACH ROW EXECUTE FUNCTION lesson_progress_count();
        -- Only a change of completion counts: the heartbeats that update a row every few seconds fire nothing.
        CREATE TRIGGER lesson_progress_completion_counted AFTER UPDATE OF completed ON lesson_progress
            FOR EACH ROW WHEN (OLD.completed IS DISTINCT FROM NEW.completed)
            EXECUTE FUNCTION lesson_progress_count();

        -- A new enrollment (or one of a learner who progressed before) starts from the progress there.
        CREATE FUNCTION enrollment_start_counters() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            SELECT c.touched, c.done INTO NEW.lessons_touched, NEW.lessons_done
            FROM enrollment_counters(NEW.user_id, NEW.module_id) c;
            RETURN NEW;
        END $$;
        CREATE TRIGGER enrollment_counters_started BEFORE INSERT ON enrollment
            FOR EACH ROW EXECUTE FUNCTION enrollment_start_counters();

        -- A lesson published, hidden or moved: its modules' enrollments are counted again.
        CREATE FUNCTION lesson_visibility_recount() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM recount_enrollments(ARRAY[OLD.module_id, NEW.module_id]);
            RETURN NULL;
        END $$;
        CREATE TRIGGER lesson_visibility_recounted AFTER UPDATE OF publication, publish_at, module_id ON lesson
            FOR EACH ROW WHEN ((OLD.publication, OLD.publish_at, OLD.module_id)
                               IS DISTINCT FROM (NEW.publication, NEW.publish_at, NEW.module_id))
            EXECUTE FUNCTION lesson_visibility_recount();

        -- An active enrollment is one learner in its module's bucket (lessons done, started): every change
        -- moves it, as appended changes.
        CREATE FUNCTION enrollment_tally() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'active' THEN
                INSERT INTO module_progress_change (module_id, lessons_done, started, learners)
                VALUES (OLD.module_id, OLD.lessons_done, OLD.lessons_touched > 0, -1);
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'active' THEN
                INSERT INTO module_progress_change (module_id, lessons_done, started, learners)
                VALUES (NEW.module_id, NEW.lessons_done, NEW.lessons_touched > 0, 1);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER enrollment_tallied AFTER INSERT OR DELETE ON enrollment
            FOR EACH ROW EXECUTE FUNCTION enrollment_tally();
        CREATE TRIGGER enrollment_tally_moved AFTER UPDATE ON enrollment
            FOR EACH ROW WHEN ((OLD.status, OLD.module_id, OLD.lessons_done, OLD.lessons_touched > 0)
                               IS DISTINCT FROM (NEW.status, NEW.module_id, NEW.lessons_done, NEW.lessons_touched > 0))
            EXECUTE FUNCTION enrollment_tally();
    """)  # noqa: S608 (constants)
    # The counters and the tally of the learners already there.
    op.execute("SELECT recount_enrollments(ARRAY(SELECT id FROM module))")
    op.execute("DELETE FROM module_progress_change")  # the backfill's moves: the tally below counts from scratch
    op.execute("""
        INSERT INTO module_progress_tally (module_id, lessons_done, started, learners)
        SELECT module_id, lessons_done, lessons_touched > 0, count(*) FROM enrollment WHERE status = 'active'
        GROUP BY 1, 2, 3
    """)


def downgrade() -> None:
    _execute_each("""
        DROP TRIGGER enrollment_tally_moved ON enrollment;
        DROP TRIGGER enrollment_tallied ON enrollment;
        DROP FUNCTION enrollment_tally();
        DROP TRIGGER lesson_visibility_recounted ON lesson;
        DROP FUNCTION lesson_visibility_recount();
        DROP TRIGGER enrollment_counters_started ON enrollment;
        DROP FUNCTION enrollment_start_counters();
        DROP TRIGGER lesson_progress_completion_counted ON lesson_progress;
        DROP TRIGGER lesson_progress_counted ON lesson_progress;
        DROP FUNCTION lesson_progress_count();
        DROP FUNCTION enrollment_counters(uuid, uuid);
        DROP FUNCTION recount_enrollments(uuid[]);
    """)
    op.drop_table("module_progress_change")
    op.drop_table("module_progress_tally")
    op.drop_column("enrollment", "lessons_done")
    op.drop_column("enrollment", "lessons_touched")
