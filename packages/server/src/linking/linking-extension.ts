import { schemaDocName } from '@cardfile/core'
import type { EventConsumer } from '../events/event-consumers'
import type { Extension, ExtensionContext } from '../extensions/extension'
import type { Job } from '../jobs/job-store'
import { linkingRoutes } from './linking-routes'
import { matchingAttributeOf } from './matching'
import { RELINK_JOB, relinkJobHandler, relinkLane } from './relink-job'
import type { RelinkInput } from './relink-job'

/** The consumer's name: where its cursor is stored. Never rename it. */
export const LINKING_CONSUMER = 'linking'

export interface LinkingOptions {
  /** Contacts per re-link transaction (default 500). */
  readonly relinkChunkSize?: number
}

/**
 * Queues a re-link of the workspace by `attribute` and cancels the older ones still queued or
 * running there (only the newest attribute matters). Under a `key` already used, resolves the
 * job queued then and cancels nothing: a replayed event changes nothing.
 */
async function queueRelink(
  context: ExtensionContext,
  workspace: string,
  attribute: string | null,
  key: string | null,
): Promise<Job> {
  const input: RelinkInput = { attribute }
  const job = await context.enqueue({
    kind: RELINK_JOB,
    workspace,
    key,
    lane: relinkLane(workspace),
    input,
  })
  const older = await context.backend.jobs.list(
    { workspace, kind: RELINK_JOB, states: ['queued', 'running'] },
    100,
  )
  const superseded = older.filter((j) => j.seq < job.seq)
  if (superseded.length > 0) {
    await context.backend.jobs.cancel(
      { workspace, ids: superseded.map((j) => j.id) },
      'superseded by a newer re-link',
    )
    for (const j of superseded) context.jobChanged(j, 'cancelled')
  }
  return job
}

/**
 * Cross-channel linking as an extension: the `linking` consumer re-links a workspace in a
 * `relink` job when its matching attribute changes (the job resumes after a crash from its
 * last chunk, and `GET /api/<ws>/jobs/<id>` follows it on any instance), and the routes of
 * linked contacts, group history, manual links and `POST /api/<ws>/relink`. Needs a backend
 * with `links` (SQLite and memory have it).
 *
 * @example
 * await createCardfileServer({ backend, auth, extensions: [linkingExtension({ relinkChunkSize: 200 })] })
 */
export function linkingExtension(options: LinkingOptions = {}): Extension {
  return {
    name: 'linking',
    start(context) {
      const links = context.backend.links
      const consumer: EventConsumer = {
        name: LINKING_CONSUMER,
        types: ['workspace.matching-changed'],
        async handle(event) {
          if (event.type !== 'workspace.matching-changed') return
          await queueRelink(context, event.workspace, event.data.attribute, `event:${event.seq}`)
        },
      }
      const relink = async (workspace: string): Promise<Job> => {
        const attribute = await context.host.read(schemaDocName(workspace), matchingAttributeOf)
        return queueRelink(context, workspace, attribute, null)
      }
      return {
        consumers: [consumer],
        jobs: [
          relinkJobHandler({
            links,
            logger: context.logger,
            ...(options.relinkChunkSize === undefined
              ? {}
              : { chunkSize: options.relinkChunkSize }),
          }),
        ],
        routes: linkingRoutes({ links, relink }),
      }
    },
  }
}
