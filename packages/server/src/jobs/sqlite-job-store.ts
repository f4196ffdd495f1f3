import { randomUUID } from 'node:crypto'
import type { Database, Statement } from 'better-sqlite3'
import { emptyJobCounts } from './job-store'
import { toJob } from './job-row'
import type { JobSqlRow } from './job-row'
import type { Job, JobFilter, JobState, JobStore } from './job-store'

/** The part of a filter that becomes SQL, with its parameters. */
function where(filter: JobFilter): { clause: string; params: unknown[] } {
  const parts = ['workspace = ?']
  const params: unknown[] = [filter.workspace]
  if (filter.kind !== undefined) {
    parts.push('kind = ?')
    params.push(filter.kind)
  }
  if (filter.lane !== undefined) {
    parts.push('lane = ?')
    params.push(filter.lane)
  }
  if (filter.states !== undefined) {
    parts.push(`state IN (${filter.states.map(() => '?').join(', ') || "''"})`)
    params.push(...filter.states)
  }
  if (filter.ids !== undefined) {
    // One parameter for any number of ids: the list travels as JSON.
    parts.push('id IN (SELECT value FROM json_each(?))')
    params.push(JSON.stringify(filter.ids))
  }
  return { clause: parts.join(' AND '), params }
}

/**
 * The jobs table in the backend's SQLite file (one connection shared with the other stores).
 *
 * @example
 * const jobs = createSqliteJobStore(db)
 */
export function createSqliteJobStore(db: Database, now: () => number = Date.now): JobStore {
  const statements = new Map<string, Statement<unknown[]>>()
  const prepare = (text: string): Statement<unknown[]> => {
    let statement = statements.get(text)
    if (statement === undefined) {
      statement = db.prepare<unknown[]>(text)
      statements.set(text, statement)
    }
    return statement
  }
  const kindsIn = (kinds: readonly string[]): string => kinds.map(() => '?').join(', ') || "''"
  const sql = {
    insert: db.prepare<[Record<string, unknown>]>(
      `INSERT INTO jobs (id, kind, workspace, job_key, lane, state, input, progress, result, error,
         owner, lease_until, attempts, run_at, created_at, updated_at, finished_at)
       VALUES (@id, @kind, @workspace, @key, @lane, 'queued', @input, @progress, NULL, NULL, NULL, 0,
         0, @runAt, @at, @at, NULL)
       ON CONFLICT (kind, job_key) WHERE job_key IS NOT NULL DO NOTHING`,
    ),
    byKey: db.prepare<[string, string], JobSqlRow>(
      'SELECT * FROM jobs WHERE kind = ? AND job_key = ?',
    ),
    byId: db.prepare<[string], JobSqlRow>('SELECT * FROM jobs WHERE id = ?'),
    take: db.prepare<[string, number, number, string]>(
      `UPDATE jobs SET state = 'running', owner = ?, lease_until = ?, attempts = attempts + 1,
         updated_at = ? WHERE id = ?`,
    ),
    heartbeat: db.prepare<[number, number, string, string]>(
      `UPDATE jobs SET lease_until = ?, updated_at = ?
       WHERE id = ? AND owner = ? AND state = 'running'`,
    ),
    heartbeatProgress: db.prepare<[number, number, string, string, string]>(
      `UPDATE jobs SET lease_until = ?, updated_at = ?, progress = ?
       WHERE id = ? AND owner = ? AND state = 'running'`,
    ),
    complete: db.prepare<[string, number, number, string, string]>(
      `UPDATE jobs SET state = 'done', result = ?, owner = NULL, updated_at = ?, finished_at = ?
       WHERE id = ? AND owner = ? AND state = 'running'`,
    ),
    failForGood: db.prepare<[string, number, number, string, string]>(
      `UPDATE jobs SET state = 'failed', error = ?, owner = NULL, updated_at = ?, finished_at = ?
       WHERE id = ? AND owner = ? AND state = 'running'`,
    ),
    failRetry: db.prepare<[string, number, number, string, string]>(
      `UPDATE jobs SET state = 'queued', error = ?, owner = NULL, run_at = ?, updated_at = ?
       WHERE id = ? AND owner = ? AND state = 'running'`,
    ),
    setResult: db.prepare<[string, number, string]>(
      `UPDATE jobs SET result = ?, updated_at = ? WHERE id = ? AND state = 'done'`,
    ),
    retry: db.prepare<[number, number, string]>(
      `UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, updated_at = ?,
         finished_at = NULL WHERE id = ? AND state = 'failed'`,
    ),
  }

  const enqueue = db.transaction((job: Parameters<JobStore['enqueue']>[0]): Job => {
    const at = now()
    const id = job.id ?? randomUUID()
    const key = job.key ?? null
    sql.insert.run({
      id,
      kind: job.kind,
      workspace: job.workspace,
      key,
      lane: job.lane ?? null,
      input: JSON.stringify(job.input ?? null),
      progress: job.progress === undefined ? null : JSON.stringify(job.progress),
      runAt: job.runAt ?? at,
      at,
    })
    const row = key === null ? sql.byId.get(id) : sql.byKey.get(job.kind, key)
    return toJob(row!)
  })

  const nextDue = (kinds: readonly string[], at: number): JobSqlRow | undefined =>
    prepare(
      `SELECT * FROM jobs j WHERE kind IN (${kindsIn(kinds)})
         AND ((state = 'queued' AND run_at <= ?) OR (state = 'running' AND lease_until <= ?))
         AND (lane IS NULL OR NOT EXISTS (SELECT 1 FROM jobs o WHERE o.lane = j.lane
           AND o.seq < j.seq AND o.state IN ('queued', 'running')))
       ORDER BY seq LIMIT 1`,
    ).get(...kinds, at, at) as JobSqlRow | undefined

  const take = db.transaction((kinds: readonly string[], owner: string, leaseMs: number) => {
    const at = now()
    const row = nextDue(kinds, at)
    if (row === undefined) return null
    sql.take.run(owner, at + leaseMs, at, row.id)
    return toJob(sql.byId.get(row.id)!)
  })

  // A look that finds nothing due takes no write lock: the runner looks every second, and
  // waiting for the lock would stall the event loop behind the commit thread's commits.
  const claim = (kinds: readonly string[], owner: string, leaseMs: number): Job | null =>
    nextDue(kinds, now()) === undefined ? null : take.immediate(kinds, owner, leaseMs)

  return {
    async enqueue(job) {
      return enqueue.immediate(job)
    },
    async get(id) {
      const row = sql.byId.get(id)
      return row === undefined ? null : toJob(row)
    },
    async list(filter, limit) {
      const { clause, params } = where(filter)
      const rows = prepare(`SELECT * FROM jobs WHERE ${clause} ORDER BY seq DESC LIMIT ?`).all(
        ...params,
        limit,
      ) as JobSqlRow[]
      return rows.map(toJob)
    },
    async count(filter) {
      const { clause, params } = where(filter)
      const rows = prepare(
        `SELECT state, count(*) AS n FROM jobs WHERE ${clause} GROUP BY state`,
      ).all(...params) as { state: JobState; n: number }[]
      const counts = emptyJobCounts()
      for (const row of rows) counts[row.state] = row.n
      return counts
    },
    async claim(kinds, owner, leaseMs) {
      return claim(kinds, owner, leaseMs)
    },
    async heartbeat(id, owner, leaseMs, progress) {
      const at = now()
      const changed =
        progress === undefined
          ? sql.heartbeat.run(at + leaseMs, at, id, owner)
          : sql.heartbeatProgress.run(at + leaseMs, at, JSON.stringify(progress), id, owner)
      return changed.changes === 1
    },
    async complete(id, owner, result) {
      const at = now()
      return sql.complete.run(JSON.stringify(result ?? null), at, at, id, owner).changes === 1
    },
    async fail(id, owner, error, retryAt) {
      const at = now()
      const changed =
        retryAt === null
          ? sql.failForGood.run(error, at, at, id, owner)
          : sql.failRetry.run(error, retryAt, at, id, owner)
      return changed.changes === 1
    },
    async cancel(filter, reason) {
      const { clause, params } = where(filter)
      const at = now()
      return prepare(
        `UPDATE jobs SET state = 'cancelled', error = ?, owner = NULL, updated_at = ?,
           finished_at = ? WHERE ${clause} AND state IN ('queued', 'running')`,
      ).run(reason, at, at, ...params).changes
    },
    async setResult(id, result) {
      return sql.setResult.run(JSON.stringify(result ?? null), now(), id).changes === 1
    },
    async retry(id) {
      const at = now()
      return sql.retry.run(at, at, id).changes === 1
    },
    async nextDueAt(kinds) {
      const row = prepare(
        `SELECT min(CASE WHEN state = 'queued' THEN run_at ELSE lease_until END) AS due
         FROM jobs WHERE kind IN (${kindsIn(kinds)}) AND state IN ('queued', 'running')`,
      ).get(...kinds) as { due: number | null } | undefined
      return row?.due ?? null
    },
    async remove(filter) {
      const { clause, params } = where(filter)
      return prepare(`DELETE FROM jobs WHERE ${clause}`).run(...params).changes
    },
  }
}
