import {
  CardfileError,
  ContactDoc,
  ErrorCodes,
  SchemaDoc,
  checkWrite,
  contactDocName,
  schemaDocName,
  validateValue,
} from '@cardfile/core'
import type { Actor, ContactData, ErrorCode, SchemaView } from '@cardfile/core'
import type { DocumentHost } from '../document-host'
import { within } from '../http/within'
import { contactEtag, ifMatches } from './contact-etag'

/** One value of a write that was refused, and why (core's code and message). */
export interface ValueRefusal {
  readonly attributeId: string
  readonly code: ErrorCode
  readonly message: string
}

/**
 * A write of contact values refused as a whole: the code and field are the first refusal's,
 * `refusals` lists every one. Nothing of the write was applied.
 */
export class ValuesRefused extends CardfileError {
  constructor(readonly refusals: readonly ValueRefusal[]) {
    const first = refusals[0]!
    super(
      first.code,
      refusals.length === 1
        ? first.message
        : `${first.message} (and ${refusals.length - 1} more refused values)`,
      `custom:${first.attributeId}`,
    )
  }
}

/** What a write of contact values did. */
export interface ValuesWritten {
  /** Attribute ids whose value changed (values equal to the stored one keep their provenance). */
  readonly changed: readonly string[]
  /** The contact's entity tag after the write. */
  readonly etag: string
  readonly contact: ContactData
}

/** The workspace's definitions and settings as they stand. */
export const readSchema = (host: DocumentHost, workspace: string): Promise<SchemaView> =>
  host.read(schemaDocName(workspace), (doc) => within(new SchemaDoc(doc), (s) => s.view()))

/**
 * The refusals of writing `values` (attribute id to value, null clears) as `actor`, by the same
 * pure rules the websocket's change gate applies: `checkWrite` for the permission, then
 * `validateValue` against the definition.
 *
 * @example
 * refusalsOf({ plan: 'gold' }, agent, schema) // [{ attributeId: 'plan', code: 'not-an-option', ... }]
 */
export function refusalsOf(
  values: Readonly<Record<string, unknown>>,
  actor: Actor,
  schema: SchemaView,
): ValueRefusal[] {
  const refusals: ValueRefusal[] = []
  for (const [attributeId, value] of Object.entries(values)) {
    const allowed = checkWrite(actor, { kind: 'custom-value', attributeId }, schema)
    const verdict = allowed.ok
      ? validateValue(schema.definitions.get(attributeId), value, 'custom')
      : allowed
    if (!verdict.ok) refusals.push({ attributeId, code: verdict.code, message: verdict.message })
  }
  return refusals
}

/** Options of {@link writeContactValues}. */
export interface WriteValuesOptions {
  /** An `If-Match` header: the write is refused (`precondition-failed`) unless it matches. */
  readonly ifMatch?: string
  readonly now?: number
}

/**
 * Writes custom values of an existing contact as `actor`, all or nothing, as one transaction of
 * the server's document host: committed, indexed, announced as events and relayed to the
 * contact's live clients at once, like an edit from the panel. The permission and validation
 * are core's, as for a websocket client; provenance names the actor. Throws `not-found` for a
 * contact without a profile, `precondition-failed` when `ifMatch` no longer matches, and
 * {@link ValuesRefused} when any value is refused; nothing is written then.
 *
 * @example
 * await writeContactValues(host, 'acme', contactId, { userId: 'zap', role: 'bot' }, { plan: 'gold' })
 */
export async function writeContactValues(
  host: DocumentHost,
  workspace: string,
  contactId: string,
  actor: Actor,
  values: Readonly<Record<string, unknown>>,
  options: WriteValuesOptions = {},
): Promise<ValuesWritten> {
  const schema = await readSchema(host, workspace)
  const now = options.now ?? Date.now()
  return host.transact(contactDocName(workspace, contactId), actor, (doc) =>
    within(new ContactDoc(doc, contactId), (contact) => {
      // Every check before the first write: a refused request leaves the document untouched.
      const before = contact.read()
      if (before.profile === null) {
        throw new CardfileError(ErrorCodes.NotFound, `No contact ${contactId}`)
      }
      if (options.ifMatch !== undefined && !ifMatches(options.ifMatch, contactEtag(doc))) {
        throw new CardfileError(
          ErrorCodes.PreconditionFailed,
          'The contact changed since it was read (If-Match does not match its ETag)',
        )
      }
      const refusals = refusalsOf(values, actor, schema)
      if (refusals.length > 0) throw new ValuesRefused(refusals)
      const changed: string[] = []
      for (const [attributeId, value] of Object.entries(values)) {
        // A value equal to the stored one keeps its provenance, as ingestion does.
        const current = before.custom[attributeId]?.value ?? null
        if (JSON.stringify(current) === JSON.stringify(value)) continue
        contact.setValue(attributeId, value as string | null, actor, schema, now)
        changed.push(attributeId)
      }
      return { changed, etag: contactEtag(doc), contact: contact.read() }
    }),
  )
}
