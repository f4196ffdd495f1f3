import {
  ATTRIBUTE_TYPES,
  CardfileError,
  ErrorCodes,
  SchemaDoc,
  contactDocName,
  convertValue,
  convertedDefinition,
  hasOptions,
  keysForReorder,
  newId,
  schemaDocName,
  validateDefinition,
  validateValue,
} from '@cardfile/core'
import type {
  Actor,
  AttributeDefinition,
  AttributeType,
  ConversionFailure,
  ConversionReport,
  DropdownOption,
} from '@cardfile/core'
import { z } from 'zod'
import type { DocumentHost } from '../document-host'
import { apiRoutes } from '../http/api-routes'
import type { HttpRequestHandler } from '../http/http-context'
import { HttpError, sendJson } from '../http/http-error'
import { readJsonBody } from '../http/read-body'
import { allowMethods, parseInput, requireRole } from '../http/route-auth'
import { within } from '../http/within'
import type { IndexStore } from '../storage/index-store'

const PAGE = 500
/** Most failures listed in a report (the count is always exact). */
const MAX_LISTED_FAILURES = 1000

const body = z
  .object({
    type: z.enum(ATTRIBUTE_TYPES as [AttributeType, ...AttributeType[]]),
    /** false (default): report only. true: change the type when every value converts. */
    apply: z.boolean().default(false),
    /** Labels of the options a type with options starts with (when the attribute has none). */
    options: z.array(z.string().min(1).max(100)).max(200).optional(),
  })
  .strict()

interface Scan {
  converted: number
  failed: number
  failures: ConversionFailure[]
  /** Contacts holding a value, to convert when applying. */
  holders: string[]
}

/** Reads every value of `from` from the index (it is written with each commit) and tries it. */
async function scan(
  index: IndexStore,
  workspace: string,
  from: AttributeDefinition,
  to: AttributeDefinition,
): Promise<Scan> {
  const result: Scan = { converted: 0, failed: 0, failures: [], holders: [] }
  let cursor: string | null = null
  do {
    const page = await index.listContacts(workspace, { limit: PAGE, cursor })
    for (const row of page.items) {
      const value = row.values[from.id]
      if (value === undefined) continue
      result.holders.push(row.id)
      const converted = convertValue(from, to, value)
      if (converted.ok) result.converted += 1
      else {
        result.failed += 1
        if (result.failures.length < MAX_LISTED_FAILURES) {
          result.failures.push({ contactId: row.id, value, reason: converted.reason })
        }
      }
    }
    cursor = page.next
  } while (cursor !== null)
  return result
}

/** Converts one contact's stored value in place; a value that no longer converts stays. */
async function convertContact(
  host: DocumentHost,
  workspace: string,
  contactId: string,
  from: AttributeDefinition,
  to: AttributeDefinition,
  actor: Actor,
): Promise<ConversionFailure | null> {
  try {
    return await host.transact(contactDocName(workspace, contactId), actor, (doc) => {
      const custom = doc.getMap('custom')
      const entry = custom.get(from.id) as { value?: unknown; by?: unknown } | undefined
      if (entry === undefined || entry === null || typeof entry.value !== 'string') return null
      // Already in the new type's form (written after the definition changed). Option ids are
      // valid text too, so values of an option type are always converted.
      if (!hasOptions(from.type) && validateValue(to, entry.value).ok) return null
      const converted = convertValue(from, to, entry.value)
      if (!converted.ok) return { contactId, value: entry.value, reason: converted.reason }
      // The same value in the new type's form: who set it, and when, stays.
      if (converted.value !== entry.value) custom.set(from.id, { ...entry, value: converted.value })
      return null
    })
  } catch (error) {
    // Erased since the scan: nothing left to convert.
    if (error instanceof CardfileError && error.code === ErrorCodes.Deleted) return null
    throw error
  }
}

/**
 * `POST /api/<ws>/attributes/<id>/type` (admins) with `{ type, apply?, options? }`: changes a
 * custom attribute's type, converting every stored value, or reports what would not convert.
 *
 * - `apply: false` (default): a dry run; answers 200 with the {@link ConversionReport}.
 * - `apply: true`: refused with 409 `not-convertible` (and the report) while any value cannot
 *   convert, changing nothing; otherwise the definition changes (then new writes are checked
 *   against the new type) and each holder's value is rewritten in the new type's form. A value
 *   written in the old type between the scan and the change, that does not convert, is left as
 *   it is and listed in the report's failures: nothing is dropped.
 *
 * Clients cannot change a type themselves (`immutable-field`): this is the only way.
 *
 * @example
 * const routes = attributeTypeRoutes()
 */
export function attributeTypeRoutes(): HttpRequestHandler {
  return apiRoutes(async (req, res, { method, workspace, resource, rest, url }, ctx) => {
    if (resource !== 'attributes' || rest.length !== 2 || rest[1] !== 'type') return false
    allowMethods(method, ['POST'], url.pathname)
    const principal = await ctx.principal(req, workspace)
    requireRole(principal, ['admin'], "change an attribute's type")
    const input = parseInput(body, await readJsonBody(req), 'body')
    const attributeId = rest[0]!
    const actor: Actor = { userId: principal.userId, role: principal.role }
    const schemaName = schemaDocName(workspace)
    const { def, all } = await ctx.host.read(schemaName, (doc) =>
      within(new SchemaDoc(doc), (s) => ({
        def: s.definition(attributeId),
        all: s.definitions(),
      })),
    )
    if (def === undefined) {
      throw new HttpError(404, ErrorCodes.NotFound, `no attribute "${attributeId}"`)
    }
    if (def.kind !== 'custom') {
      throw new HttpError(403, ErrorCodes.Forbidden, 'platform attributes keep their type')
    }
    if (def.type === input.type) {
      throw new HttpError(400, ErrorCodes.InvalidValue, `${def.label} is already ${input.type}`)
    }
    const labels = input.options ?? []
    const keys = keysForReorder(labels.length)
    const options: DropdownOption[] = labels.map((label, i) => ({
      id: newId(label, 'option'),
      label: label.trim(),
      order: `${keys[i]!}`,
      retired: false,
    }))
    if (hasOptions(input.type) && def.options.length > 0 && options.length > 0) {
      throw new HttpError(400, ErrorCodes.InvalidValue, `${def.label} has options already`)
    }
    const target = convertedDefinition(def, input.type, options)
    const valid = validateDefinition(target, all)
    if (!valid.ok) throw new HttpError(400, valid.code, valid.message)

    const found = await scan(ctx.backend.index, workspace, def, target)
    const report = (applied: boolean, failures = found.failures): ConversionReport => ({
      attributeId,
      from: def.type,
      to: input.type,
      converted: found.converted,
      failures,
      applied,
    })
    if (!input.apply) {
      sendJson(res, 200, { report: report(false) })
      return true
    }
    if (found.failed > 0) {
      sendJson(res, 409, {
        error: {
          code: ErrorCodes.NotConvertible,
          message: `${found.failed} value(s) of ${def.label} cannot become ${input.type}: nothing was changed`,
        },
        report: report(false),
      })
      return true
    }
    await ctx.host.transact(schemaName, actor, (doc) =>
      within(new SchemaDoc(doc), (s) => {
        // Judged again on the schema as it is now: another admin may have edited it meanwhile.
        const now = s.definition(attributeId)
        if (now === undefined || now.type !== def.type) {
          throw new HttpError(409, ErrorCodes.InvalidValue, `${def.label} changed meanwhile`)
        }
        s.changeType(target)
      }),
    )
    const late: ConversionFailure[] = []
    for (const contactId of found.holders) {
      const failure = await convertContact(ctx.host, workspace, contactId, def, target, actor)
      if (failure !== null) late.push(failure)
    }
    sendJson(res, 200, { report: report(true, late) })
    return true
  })
}
