import { attributeKey } from '@cardfile/core'
import type * as Y from 'yjs'
import { normaliseMatchValue } from './normalise'

/**
 * The attribute that links contacts across channels in a workspace, read from its schema
 * document: the `matchingAttribute` setting, unless that attribute is retired or unknown (then
 * nothing links by value, as with no matching attribute chosen).
 *
 * @example
 * matchingAttributeOf(schemaDoc) // 'email' or null
 */
export function matchingAttributeOf(schema: Y.Doc | null): string | null {
  if (schema === null) return null
  const id = schema.getMap('settings').get('matchingAttribute')
  if (typeof id !== 'string') return null
  const attributes = schema.getMap('attributes')
  if (attributes.get(attributeKey(id, 'kind')) === undefined) return null
  if (attributes.get(attributeKey(id, 'retired')) === true) return null
  return id
}

/**
 * The normalised matching value of a contact from its values by attribute id.
 *
 * @example
 * matchValueOf({ email: ' Ana@X.org' }, 'email') // 'ana@x.org'
 */
export const matchValueOf = (
  values: Readonly<Record<string, string>>,
  attribute: string | null,
): string | null => (attribute === null ? null : normaliseMatchValue(values[attribute]))
