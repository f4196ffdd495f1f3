import { randomUUID } from 'node:crypto'
import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { PgDatabase, PgSession } from '../storage/postgres-database'
import { emptyJobCounts } from './job-store'
import { toJob } from './job-row'
import type { JobSqlRow } from './job-row'
import type { Job, JobFilter, JobState, JobStore, NewJob } from './job-store'

/** The part of a filter that becomes SQL, its parameters numbered from `first`. */
function where(filter: JobFilter, first = 1): { clause: string; params: unknown[] } {
  const params: unknown[] = [filter.workspace]
  const parts = [`workspace = $${first}`]
  const add = (sql: (n: string) => string, value: unknown): void => {
    params.push(value)
    parts.push(sql(`$${first + params.length - 1}`))
  }
  if (filter.kind !== undefined) add((n) => `kind = ${n}`, filter.kind)
  if (filter.lane !== undefined) add((n) => `lane = ${n}`, filter.lane)
  // Arrays travel as one parameter each; an empty one matches nothing, as in SQLite.
  if (filter.states !== undefined) add((n) => `state = ANY(${n}::text[])`, filter.states)
  if (filter.ids !== undefined) add((n) => `id = ANY(${n}::text[])`, filter.ids)
  return { clause: parts.join(' AND '), params }
}

/*
 * Why enqueuing into a lane takes a lock: `seq` is handed out at insert but transactions commit
 * in any order, so without it a lane's job with seq 5 could become visible after the one with
 * seq 6 was claimed, and then both would run at once (nothing older blocks seq 5). Holding a
 * per-lane advisory lock from before the insert to the commit makes a lane's seqs commit in
 * order, which is what the claim's lane rule assumes (as it holds trivially in SQLite). The key
 * is the bigint form (the event store's announcements use the two-int4 form and only look at
 * those) and carries the schema, since advisory locks are per database; a hash collision only
 * makes two enqueues wait for each other.
 */
const LANE_LOCK = `SELECT pg_advisory_xact_lock(
  (hashtext('cardfile.jobs.lane:' || current_schema())::bigint << 32)
    | (hashtext($1)::bigint & 4294967295)
) IS NULL AS locked`

const INSERT = `INSERT INTO jobs (id, kind, workspace, job_key, lane, state, input, progress,
    result, error, owner, lease_until, attempts, run_at, created_at, updated_at, finished_at)
  VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, NULL, NULL, NULL, 0, 0, $8, $9, $9, NULL)
  ON CONFLICT (kind, job_key) WHERE job_key IS NOT NULL DO NOTHING
  RETURNING *`

/*
 * The oldest claimable job, locked for this statement's update. SKIP LOCKED: a job another
 * process is claiming right now is passed over, so concurrent claimers take different jobs
 * instead of queueing behind one row. The scan walks jobs_pending (unfinished jobs in seq order)
 * and the lane probe jobs_lane_pending, so neither reads the finished history (with the plain
 * seq index the planner scans every finished job first). The lane rule is SQLite's: a job
 * waits while an older job of its lane is queued (due or not: one waiting for its retry still
 * holds the lane) or running (if that lease ran out, the older job is itself claimable first).
 * Reading an older job as queued while another process is finishing it only makes this claim
 * wait for the next round, never run two of a lane at once.
 */
const CLAIM = `WITH next AS (
    SELECT j.seq FROM jobs j
    WHERE j.kind = ANY($1::text[])
      AND ((j.state = 'queued' AND j.run_at <= $2) OR (j.state = 'running' AND j.lease_until <= $2))
      AND (j.lane IS NULL OR NOT EXISTS (SELECT 1 FROM jobs o WHERE o.lane = j.lane
        AND o.seq < j.seq AND o.state IN ('queued', 'running')))
    ORDER BY j.seq
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED
  )
  UPDATE jobs SET state = 'running', owner = $3, lease_until = $4, attempts = attempts + 1,
    updated_at = $2
  FROM next WHERE jobs.seq = next.seq
  RETURNING jobs.*`

/** Attempts at enqueuing under a key whose job vanishes (is removed) between insert and read. */
const ENQUEUE_ATTEMPTS = 3

/**
 * The jobs table in PostgreSQL, shared by every server process using the database: a job is
 * claimed by one process at a time, and a lane's jobs run one at a time in order across all of
 * them.
 *
 * @example
 * const jobs = createPostgresJobStore(db)
 * const job = await jobs.claim(['relink'], owner, 30_000)
 */
export function createPostgresJobStore(db: PgDatabase, now: () => number = Date.now): JobStore {
  const insertOnce = async (tx: PgSession, job: NewJob): Promise<Job | null> => {
    const at = now()
    const key = job.key ?? null
    const lane = job.lane ?? null
    if (lane !== null) await tx.run(LANE_LOCK, [lane])
    const inserted = await tx.one<JobSqlRow>(INSERT, [
      job.id ?? randomUUID(),
      job.kind,
      job.workspace,
      key,
      lane,
      JSON.stringify(job.input ?? null),
      job.progress === undefined ? null : JSON.stringify(job.progress),
      job.runAt ?? at,
      at,
    ])
    if (inserted !== undefined) return toJob(inserted)
    // The key was taken (the insert waited for that job's commit, so this statement sees it).
    const existing = await tx.one<JobSqlRow>(
      'SELECT * FROM jobs WHERE kind = $1 AND job_key = $2',
      [job.kind, key],
    )
    return existing === undefined ? null : toJob(existing)
  }

  const kindsDue = `kind = ANY($1::text[]) AND state IN ('queued', 'running')`

  return {
    async enqueue(job) {
      for (let attempt = 1; attempt <= ENQUEUE_ATTEMPTS; attempt += 1) {
        const result = await db.transaction((tx) => insertOnce(tx, job))
        if (result !== null) return result
      }
      throw new CardfileError(
        ErrorCodes.Unavailable,
        `job key ${String(job.key)} of ${job.kind} keeps changing hands; retry later`,
      )
    },

    async get(id) {
      const row = await db.one<JobSqlRow>('SELECT * FROM jobs WHERE id = $1', [id])
      return row === undefined ? null : toJob(row)
    },

    async list(filter, limit) {
      const { clause, params } = where(filter)
      const rows = await db.rows<JobSqlRow>(
        `SELECT * FROM jobs WHERE ${clause} ORDER BY seq DESC LIMIT $${params.length + 1}`,
        [...params, limit],
      )
      return rows.map(toJob)
    },

    async count(filter) {
      const { clause, params } = where(filter)
      const rows = await db.rows<{ state: JobState; n: number }>(
        `SELECT state, count(*)::int AS n FROM jobs WHERE ${clause} GROUP BY state`,
        params,
      )
      const counts = emptyJobCounts()
      for (const row of rows) counts[row.state] = row.n
      return counts
    },

    async claim(kinds, owner, leaseMs) {
      const at = now()
      const row = await db.one<JobSqlRow>(CLAIM, [kinds, at, owner, at + leaseMs])
      return row === undefined ? null : toJob(row)
    },

    async heartbeat(id, owner, leaseMs, progress) {
      const at = now()
      const changed =
        progress === undefined
          ? await db.run(
              `UPDATE jobs SET lease_until = $1, updated_at = $2
               WHERE id = $3 AND owner = $4 AND state = 'running'`,
              [at + leaseMs, at, id, owner],
            )
          : await db.run(
              `UPDATE jobs SET lease_until = $1, updated_at = $2, progress = $3
               WHERE id = $4 AND owner = $5 AND state = 'running'`,
              [at + leaseMs, at, JSON.stringify(progress), id, owner],
            )
      return changed === 1
    },

    async complete(id, owner, result) {
      const at = now()
      const changed = await db.run(
        `UPDATE jobs SET state = 'done', result = $1, owner = NULL, updated_at = $2,
           finished_at = $2 WHERE id = $3 AND owner = $4 AND state = 'running'`,
        [JSON.stringify(result ?? null), at, id, owner],
      )
      return changed === 1
    },

    async fail(id, owner, error, retryAt) {
      const at = now()
      const changed =
        retryAt === null
          ? await db.run(
              `UPDATE jobs SET state = 'failed', error = $1, owner = NULL, updated_at = $2,
                 finished_at = $2 WHERE id = $3 AND owner = $4 AND state = 'running'`,
              [error, at, id, owner],
            )
          : await db.run(
              `UPDATE jobs SET state = 'queued', error = $1, owner = NULL, run_at = $2,
                 updated_at = $3 WHERE id = $4 AND owner = $5 AND state = 'running'`,
              [error, retryAt, at, id, owner],
            )
      return changed === 1
    },

    async cancel(filter, reason) {
      const { clause, params } = where(filter, 3)
      const at = now()
      return db.run(
        `UPDATE jobs SET state = 'cancelled', error = $1, owner = NULL, updated_at = $2,
           finished_at = $2 WHERE ${clause} AND state IN ('queued', 'running')`,
        [reason, at, ...params],
      )
    },

    async setResult(id, result) {
      const changed = await db.run(
        `UPDATE jobs SET result = $1, updated_at = $2 WHERE id = $3 AND state = 'done'`,
        [JSON.stringify(result ?? null), now(), id],
      )
      return changed === 1
    },

    async retry(id) {
      const at = now()
      const changed = await db.run(
        `UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1,
           finished_at = NULL WHERE id = $2 AND state = 'failed'`,
        [at, id],
      )
      return changed === 1
    },

    async nextDueAt(kinds) {
      const row = await db.one<{ due: number | null }>(
        `SELECT min(CASE WHEN state = 'queued' THEN run_at ELSE lease_until END) AS due
         FROM jobs WHERE ${kindsDue}`,
        [kinds],
      )
      return row?.due ?? null
    },

    async remove(filter) {
      const { clause, params } = where(filter)
      return db.run(`DELETE FROM jobs WHERE ${clause}`, params)
    },
  }
}
