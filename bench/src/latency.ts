import type * as Y from 'yjs'
import { LATENCY_ATTRIBUTE, readSequence, writeSequence } from './contact-edits'
import { pause, within } from './stats'

/** What the latency phase needs of a client: its document, and a call when the server changed it. */
export interface LatencyClient {
  readonly doc: Y.Doc
  onRemoteChange: (() => void) | null
}

export interface LatencyOptions {
  /** Measured edits (after the warm-up ones). */
  readonly samples: number
  /** Edits made first and not counted, so the JIT and buffers are warm. */
  readonly warmup: number
  /** Pause after every other client saw an edit, before the next one. */
  readonly gapMs: number
  /** Longest an edit may take to reach every client before the run fails. */
  readonly editTimeoutMs: number
  /** Stop early (with fewer samples) once this time (performance.now()) is reached. */
  readonly deadline: number
}

export interface LatencyResult {
  /** Edits made, warm-up included (for CPU per update over the whole phase). */
  readonly edits: number
  /** Per edit: ms from the writer's change until the last other client applied it. */
  readonly untilAll: number[]
  /** Per edit and observer: ms from the writer's change until that client applied it. */
  readonly perDelivery: number[]
}

/**
 * Edit-to-visible latency with one writer: `clients[0]` sets a custom value, one edit at a time,
 * and every other client reports when its Y.Doc shows it. Clients live in this process, so one
 * clock times both ends; their Yjs decoding is part of "visible", for Cardfile and bare alike.
 */
export async function measureLatency(
  clients: readonly LatencyClient[],
  options: LatencyOptions,
): Promise<LatencyResult> {
  const [writer, ...observers] = clients
  if (writer === undefined || observers.length === 0) throw new Error('latency needs 2+ clients')
  const untilAll: number[] = []
  const perDelivery: number[] = []
  let edits = 0
  const seenBy = observers.map((observer) => readSequence(observer, LATENCY_ATTRIBUTE))
  let sequence = Math.max(readSequence(writer, LATENCY_ATTRIBUTE), ...seenBy)
  let startedAt = 0
  let pending = 0
  let counted = false
  let editDone: () => void = () => undefined

  observers.forEach((observer, index) => {
    observer.onRemoteChange = () => {
      if ((seenBy[index] ?? 0) >= sequence) return
      const seen = readSequence(observer, LATENCY_ATTRIBUTE)
      if (seen < sequence) return
      seenBy[index] = seen
      const elapsed = performance.now() - startedAt
      if (counted) perDelivery.push(elapsed)
      pending--
      if (pending === 0) {
        if (counted) untilAll.push(elapsed)
        editDone()
      }
    }
  })
  try {
    for (let edit = 0; edit < options.warmup + options.samples; edit++) {
      if (edit >= options.warmup && performance.now() > options.deadline) break
      counted = edit >= options.warmup
      sequence++
      pending = observers.length
      const done = new Promise<void>((resolve) => {
        editDone = resolve
      })
      startedAt = performance.now()
      writeSequence(writer, LATENCY_ATTRIBUTE, sequence)
      edits++
      await within(
        done,
        options.editTimeoutMs,
        `edit ${sequence} reached ${observers.length - pending}/${observers.length} clients`,
      )
      await pause(options.gapMs)
    }
  } finally {
    for (const observer of observers) observer.onRemoteChange = null
  }
  return { edits, untilAll, perDelivery }
}
