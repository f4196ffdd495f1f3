import { CardfileError, ErrorCodes } from '@cardfile/core'
import type { AttributeDefinition, SchemaView } from '@cardfile/core'

/** How the header of an import maps to identity and attributes. */
export interface ImportColumns {
  /** Column index of the channel and of the platform user id. */
  readonly channel: number
  readonly platformUserId: number
  /**
   * Attribute columns (custom, platform and the VIP standard one): index, the header as
   * written, and the definition it names.
   */
  readonly attributes: readonly {
    readonly index: number
    readonly header: string
    readonly def: AttributeDefinition
  }[]
  readonly width: number
}

/** An import whose header cannot be used; nothing of it was applied. */
export class ImportRefused extends CardfileError {
  constructor(readonly problems: readonly string[]) {
    super(ErrorCodes.BadRequest, `The CSV header cannot be imported: ${problems.join('; ')}`)
  }
}

const IDENTITY: Readonly<Record<string, 'channel' | 'platformUserId'>> = {
  channel: 'channel',
  platformuserid: 'platformUserId',
  platform_user_id: 'platformUserId',
}

/**
 * Maps an import's header: `channel` and `platformUserId` (the channel identity) and one column
 * per attribute, custom, platform or standard (VIP), named by its alias (case does not
 * matter). Whether the importing role may write a platform or VIP column is decided per row,
 * by the websocket's rules. Throws {@link ImportRefused} listing every unknown, duplicate or
 * retired column and a missing identity column: an import with a column it cannot place
 * imports nothing.
 *
 * @example
 * importColumns(['channel', 'platformUserId', 'plan'], schema.view())
 */
export function importColumns(header: readonly string[], schema: SchemaView): ImportColumns {
  const byAlias = new Map<string, AttributeDefinition>()
  for (const def of schema.definitions.values()) byAlias.set(def.alias.toLowerCase(), def)
  const problems: string[] = []
  const seen = new Set<string>()
  const identity: { channel?: number; platformUserId?: number } = {}
  const attributes: { index: number; header: string; def: AttributeDefinition }[] = []
  header.forEach((raw, index) => {
    const name = raw.trim()
    const key = name.toLowerCase()
    if (name === '') {
      problems.push(`column ${index + 1} has no name`)
      return
    }
    const slot = IDENTITY[key]
    const canonical = slot ?? key
    if (seen.has(canonical)) {
      problems.push(`"${name}" appears twice`)
      return
    }
    seen.add(canonical)
    if (slot !== undefined) {
      identity[slot] = index
      return
    }
    const def = byAlias.get(key)
    if (def === undefined) problems.push(`"${name}" is not an attribute alias`)
    else if (def.retired) problems.push(`"${name}" is retired`)
    else attributes.push({ index, header: name, def })
  })
  if (identity.channel === undefined) problems.push('no "channel" column')
  if (identity.platformUserId === undefined) problems.push('no "platformUserId" column')
  if (problems.length > 0) throw new ImportRefused(problems)
  return {
    channel: identity.channel!,
    platformUserId: identity.platformUserId!,
    attributes,
    width: header.length,
  }
}

/**
 * The stored form of a CSV cell for an attribute: a dropdown's option by its label (as exports
 * write it, case does not matter) or its id; text as it is.
 */
export function cellValue(def: AttributeDefinition, cell: string): string {
  if (def.type !== 'dropdown') return cell
  const wanted = cell.trim().toLowerCase()
  const option =
    def.options.find((o) => o.id === cell.trim()) ??
    def.options.find((o) => o.label.toLowerCase() === wanted)
  return option?.id ?? cell
}
