import { randomUUID } from 'node:crypto'
import { emptyJobCounts } from './job-store'
import type { Job, JobFilter, JobStore } from './job-store'

type MutableJob = { -readonly [K in keyof Job]: Job[K] }

const matches = (job: Job, f: JobFilter): boolean =>
  job.workspace === f.workspace &&
  (f.kind === undefined || job.kind === f.kind) &&
  (f.lane === undefined || job.lane === f.lane) &&
  (f.states === undefined || f.states.includes(job.state)) &&
  (f.ids === undefined || f.ids.includes(job.id))

const copy = (job: MutableJob): Job => ({ ...job })

/**
 * The jobs table held in memory (tests and the memory backend), with the same leases as SQL.
 *
 * @example
 * const jobs = createMemoryJobStore()
 * await jobs.enqueue({ kind: 'relink', workspace: 'demo', input: { attribute: 'email' } })
 */
export function createMemoryJobStore(now: () => number = Date.now): JobStore {
  const jobs: MutableJob[] = []
  let seq = 0
  const byId = (id: string): MutableJob | undefined => jobs.find((j) => j.id === id)
  const owned = (id: string, owner: string): MutableJob | undefined => {
    const job = byId(id)
    return job?.state === 'running' && job.owner === owner ? job : undefined
  }
  const blocked = (job: MutableJob): boolean =>
    job.lane !== null &&
    jobs.some(
      (o) =>
        o.lane === job.lane && o.seq < job.seq && (o.state === 'queued' || o.state === 'running'),
    )

  return {
    async enqueue(input) {
      const key = input.key ?? null
      if (key !== null) {
        const existing = jobs.find((j) => j.kind === input.kind && j.key === key)
        if (existing !== undefined) return copy(existing)
      }
      const at = now()
      const job: MutableJob = {
        id: input.id ?? randomUUID(),
        kind: input.kind,
        workspace: input.workspace,
        key,
        lane: input.lane ?? null,
        seq: ++seq,
        state: 'queued',
        input: input.input,
        progress: input.progress ?? null,
        result: null,
        error: null,
        owner: null,
        leaseUntil: 0,
        attempts: 0,
        runAt: input.runAt ?? at,
        createdAt: at,
        updatedAt: at,
        finishedAt: null,
      }
      jobs.push(job)
      return copy(job)
    },
    async get(id) {
      const job = byId(id)
      return job === undefined ? null : copy(job)
    },
    async list(filter, limit) {
      return jobs
        .filter((j) => matches(j, filter))
        .sort((a, b) => b.seq - a.seq)
        .slice(0, limit)
        .map(copy)
    },
    async count(filter) {
      const counts = emptyJobCounts()
      for (const job of jobs) if (matches(job, filter)) counts[job.state] += 1
      return counts
    },
    async claim(kinds, owner, leaseMs) {
      const at = now()
      const job = jobs.find(
        (j) =>
          kinds.includes(j.kind) &&
          ((j.state === 'queued' && j.runAt <= at) ||
            (j.state === 'running' && j.leaseUntil <= at)) &&
          !blocked(j),
      )
      if (job === undefined) return null
      job.state = 'running'
      job.owner = owner
      job.leaseUntil = at + leaseMs
      job.attempts += 1
      job.updatedAt = at
      return copy(job)
    },
    async heartbeat(id, owner, leaseMs, progress) {
      const job = owned(id, owner)
      if (job === undefined) return false
      const at = now()
      job.leaseUntil = at + leaseMs
      job.updatedAt = at
      if (progress !== undefined) job.progress = progress
      return true
    },
    async complete(id, owner, result) {
      const job = owned(id, owner)
      if (job === undefined) return false
      const at = now()
      Object.assign(job, { state: 'done', result, owner: null, updatedAt: at, finishedAt: at })
      return true
    },
    async fail(id, owner, error, retryAt) {
      const job = owned(id, owner)
      if (job === undefined) return false
      const at = now()
      if (retryAt === null) {
        Object.assign(job, { state: 'failed', error, owner: null, updatedAt: at, finishedAt: at })
      } else {
        Object.assign(job, { state: 'queued', error, owner: null, runAt: retryAt, updatedAt: at })
      }
      return true
    },
    async cancel(filter, reason) {
      const at = now()
      let n = 0
      for (const job of jobs) {
        if (!matches(job, filter) || (job.state !== 'queued' && job.state !== 'running')) continue
        Object.assign(job, {
          state: 'cancelled',
          error: reason,
          owner: null,
          updatedAt: at,
          finishedAt: at,
        })
        n += 1
      }
      return n
    },
    async setResult(id, result) {
      const job = byId(id)
      if (job?.state !== 'done') return false
      Object.assign(job, { result, updatedAt: now() })
      return true
    },
    async retry(id) {
      const job = byId(id)
      if (job?.state !== 'failed') return false
      const at = now()
      Object.assign(job, {
        state: 'queued',
        attempts: 0,
        runAt: at,
        updatedAt: at,
        finishedAt: null,
      })
      return true
    },
    async nextDueAt(kinds) {
      let due: number | null = null
      for (const j of jobs) {
        if (!kinds.includes(j.kind)) continue
        const at = j.state === 'queued' ? j.runAt : j.state === 'running' ? j.leaseUntil : null
        if (at !== null && (due === null || at < due)) due = at
      }
      return due
    },
    async remove(filter) {
      let n = 0
      for (let i = jobs.length - 1; i >= 0; i -= 1) {
        const job = jobs[i]!
        if (matches(job, filter)) {
          jobs.splice(i, 1)
          n += 1
        }
      }
      return n
    },
  }
}
