import type { AttributeDefinition, ChannelId } from '@cardfile/core'
import { schemaAccess } from './access'
import { useCardfileClient } from './context'
import { loadStateOf } from './load-state'
import type { LoadState } from './load-state'
import { useDocumentSelector } from './use-document-selector'

/** Options of {@link useAttributes}. */
export interface UseAttributesOptions<T> {
  /** Show what agents see on this channel (platform attributes of other channels are hidden). */
  readonly channel?: ChannelId
  /** Picks what the component needs; it re-renders only when that changes. */
  readonly select?: (attributes: readonly AttributeDefinition[]) => T
}

/** What {@link useAttributes} returns. */
export interface AttributesResult<T> extends LoadState {
  readonly attributes: T
}

const EMPTY: readonly AttributeDefinition[] = Object.freeze([])

/**
 * The attribute definitions agents should see, in the admin's order: visible custom attributes
 * and, with `channel`, the visible platform attributes of that channel. Updates live when an
 * admin reorders, renames or switches one on or off.
 *
 * @example
 * function Labels({ channel }: { channel: ChannelId }) {
 *   const { attributes, source } = useAttributes({ channel })
 *   if (source === 'none') return <Spinner />
 *   return <ul>{attributes.map((a) => <li key={a.id}>{a.label}</li>)}</ul>
 * }
 *
 * @example
 * // Only the ids: no re-render when a label changes.
 * const { attributes: ids } = useAttributes({ select: (defs) => defs.map((d) => d.id) })
 */
export function useAttributes<T>(
  options: UseAttributesOptions<T> & { readonly select: (a: readonly AttributeDefinition[]) => T },
): AttributesResult<T>
export function useAttributes(options?: {
  readonly channel?: ChannelId
}): AttributesResult<readonly AttributeDefinition[]>
export function useAttributes<T>(
  options: UseAttributesOptions<T> = {},
): AttributesResult<T | readonly AttributeDefinition[]> {
  const client = useCardfileClient()
  const { channel, select } = options
  return useDocumentSelector(schemaAccess(client.workspace), (handle) => {
    const defs = handle === null ? EMPTY : handle.schema.visibleDefinitions(channel)
    return {
      ...loadStateOf(handle),
      attributes: select === undefined ? defs : select(defs),
    }
  })
}
