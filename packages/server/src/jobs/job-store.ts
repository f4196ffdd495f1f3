/** Where a job stands. `queued` jobs wait for a worker (or for `runAt`, when retrying). */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

/**
 * A unit of background work as stored: re-links, exports, deliveries to a bot or CRM. A job is
 * run by one worker at a time, which holds a lease on it and renews it (the heartbeat) with its
 * progress; a job whose lease ran out (its worker crashed or was cut off) is taken by the next
 * worker that looks and resumes from its last progress. Jobs hold ids and counts, not a
 * contact's values; the one exception, a CRM delivery's body, lives in its contact's lane and is
 * removed with it when the contact is erased.
 */
export interface Job {
  readonly id: string
  /** What runs it: the job handler registered for this kind. */
  readonly kind: string
  readonly workspace: string
  /**
   * Unique per kind when set: enqueuing a second job under the same key returns the first
   * (an event consumer uses the event's seq, so a replayed event does not enqueue twice).
   */
  readonly key: string | null
  /**
   * Jobs of one lane run one at a time in the order they were enqueued (one contact's CRM
   * deliveries, one workspace's re-links); null: no order.
   */
  readonly lane: string | null
  /** Order of enqueuing, across the whole store. */
  readonly seq: number
  readonly state: JobState
  /** What the job was asked to do (JSON). */
  readonly input: unknown
  /** Where the job has got to (JSON, the handler's own shape), for resuming and for progress. */
  readonly progress: unknown
  /** What a finished job produced (JSON). */
  readonly result: unknown
  readonly error: string | null
  /** The worker holding the job, while running. */
  readonly owner: string | null
  readonly leaseUntil: number
  /** Runs started, the current one included. */
  readonly attempts: number
  /** A queued job is not taken before this time (ms since epoch). */
  readonly runAt: number
  readonly createdAt: number
  readonly updatedAt: number
  readonly finishedAt: number | null
}

/** What enqueuing takes; the store fills in the rest. */
export interface NewJob {
  readonly id?: string
  readonly kind: string
  readonly workspace: string
  readonly key?: string | null
  readonly lane?: string | null
  readonly input: unknown
  readonly progress?: unknown
  /** Default now. */
  readonly runAt?: number
}

/** A count per state with every state at 0. */
export const emptyJobCounts = (): Record<JobState, number> => ({
  queued: 0,
  running: 0,
  done: 0,
  failed: 0,
  cancelled: 0,
})

/** Which jobs a listing or a cancellation is about. */
export interface JobFilter {
  readonly workspace: string
  readonly kind?: string
  readonly lane?: string
  readonly states?: readonly JobState[]
  /** Only these jobs (an erasure cancels the exports that may hold the contact). */
  readonly ids?: readonly string[]
}

/**
 * The leased jobs table. Every change a worker makes names the worker: a worker that lost its
 * lease (another took the job after it ran out, or the job was cancelled) gets false back and
 * must stop, so a paused worker never overwrites the progress of the one that took over.
 */
export interface JobStore {
  /** Enqueues a job; with a `key` already used for this kind, resolves that job instead. */
  enqueue(job: NewJob): Promise<Job>
  get(id: string): Promise<Job | null>
  /** Jobs matching the filter, newest first. */
  list(filter: JobFilter, limit: number): Promise<Job[]>
  /** How many jobs match the filter, by state (every state present, 0 when none). */
  count(filter: JobFilter): Promise<Record<JobState, number>>
  /**
   * Takes the oldest job of one of `kinds` that is queued and due, or running with a lease
   * that ran out, for `owner` until `leaseMs` from now (attempts + 1). A job waits while an
   * older job of its lane is queued or running.
   */
  claim(kinds: readonly string[], owner: string, leaseMs: number): Promise<Job | null>
  /** Renews the lease (and stores progress, when given); false when `owner` lost the job. */
  heartbeat(id: string, owner: string, leaseMs: number, progress?: unknown): Promise<boolean>
  /** Marks the job done with its result; false when `owner` lost the job. */
  complete(id: string, owner: string, result: unknown): Promise<boolean>
  /**
   * Records a failed run: queued again for `retryAt`, or failed for good when it is null;
   * false when `owner` lost the job.
   */
  fail(id: string, owner: string, error: string, retryAt: number | null): Promise<boolean>
  /** Cancels the queued and running jobs that match; resolves how many. */
  cancel(filter: JobFilter, reason: string): Promise<number>
  /**
   * Replaces the result of a done job (an export whose file was removed since it finished);
   * false when the job is not done.
   */
  setResult(id: string, result: unknown): Promise<boolean>
  /** Queues a failed job again, due now, with its attempts reset; false when it is not failed. */
  retry(id: string): Promise<boolean>
  /** When the earliest queued job of `kinds` is due, or null when none is queued. */
  nextDueAt(kinds: readonly string[]): Promise<number | null>
  /**
   * Deletes the jobs that match, in whatever state (erasure drops a contact's queued deliveries;
   * pruning passes finished states); resolves how many. A worker running a deleted job loses it.
   */
  remove(filter: JobFilter): Promise<number>
}
