import type { Job, JobState } from './job-store'

/** A row of the `jobs` table, as both SQL engines return it (JSON columns as text). */
export interface JobSqlRow {
  seq: number
  id: string
  kind: string
  workspace: string
  job_key: string | null
  lane: string | null
  state: string
  input: string
  progress: string | null
  result: string | null
  error: string | null
  owner: string | null
  lease_until: number
  attempts: number
  run_at: number
  created_at: number
  updated_at: number
  finished_at: number | null
}

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text))

/** Reads a `jobs` table row as a job (shared by the SQLite and PostgreSQL stores). */
export const toJob = (r: JobSqlRow): Job => ({
  id: r.id,
  kind: r.kind,
  workspace: r.workspace,
  key: r.job_key,
  lane: r.lane,
  seq: r.seq,
  state: r.state as JobState,
  input: json(r.input),
  progress: json(r.progress),
  result: json(r.result),
  error: r.error,
  owner: r.owner,
  leaseUntil: r.lease_until,
  attempts: r.attempts,
  runAt: r.run_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
})
