import * as Y from 'yjs'
import {
  CardfileError,
  DEFAULT_RULES,
  NON_JSON_VALUE,
  ROOT_MAPS,
  SchemaDoc,
  parseDocName,
  seedWorkspace,
} from '../src/index'
import type {
  Actor,
  AttributeDefinition,
  AttributeType,
  DocKind,
  FieldChange,
  Plan,
  PolicyContext,
  SchemaView,
  WorkspaceSettings,
} from '../src/index'

export const admin: Actor = { userId: 'ada', role: 'admin' }
export const agent: Actor = { userId: 'alan', role: 'agent' }
export const bot: Actor = { userId: 'robo', role: 'bot' }
export const crm: Actor = { userId: 'crm', role: 'crm' }
export const system: Actor = { userId: 'ingest', role: 'system' }
export const NOW = 1_700_000_000_000

/** `'ok'` when `fn` returns, the code of the CardfileError it throws otherwise (other errors rethrown). */
export const codeThrownBy = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (error) {
    if (error instanceof CardfileError) return error.code
    throw error
  }
}

/**
 * A live custom attribute of `type` (id, label and alias `field`), default rules and no
 * options, with `patch` applied over it.
 */
export const customDefinition = (
  type: AttributeType,
  patch: Partial<AttributeDefinition> = {},
): AttributeDefinition => ({
  id: 'field',
  label: 'Field',
  kind: 'custom',
  type,
  alias: 'field',
  channels: [],
  visible: true,
  channelVisibility: {},
  crmManaged: false,
  lookup: false,
  retired: false,
  maxLength: 1000,
  order: 'a5',
  options: [],
  rules: DEFAULT_RULES,
  ...patch,
})

/**
 * A seeded workspace with a text attribute (`account_id`, max 12), a dropdown (`plan`: free,
 * pro, gold) and a CRM-managed text attribute (`crm_tier`).
 */
export function workspace(plan: Plan = 'advanced', settings: Partial<WorkspaceSettings> = {}) {
  const doc = new Y.Doc()
  seedWorkspace(doc, { plan })
  const schema = new SchemaDoc(doc)
  schema.createAttribute({ id: 'account_id', label: 'Account id', type: 'text', maxLength: 12 })
  schema.createAttribute({
    id: 'plan',
    label: 'Plan',
    type: 'dropdown',
    options: [
      { id: 'free', label: 'Free' },
      { id: 'pro', label: 'Pro' },
      { id: 'gold', label: 'Gold' },
    ],
  })
  schema.createAttribute({ id: 'crm_tier', label: 'CRM tier', type: 'text', crmManaged: true })
  if (Object.keys(settings).length > 0) schema.updateSettings(settings)
  return { doc, schema }
}

/** A view with other settings, for permission tables. */
export const withSettings = (view: SchemaView, patch: Partial<WorkspaceSettings>): SchemaView => ({
  definitions: view.definitions,
  settings: { ...view.settings, ...patch },
})

const plain = (value: unknown): unknown =>
  value instanceof Y.AbstractType ? NON_JSON_VALUE : value

/**
 * Runs `write` (as a hostile client would: raw Yjs writes on a replica), applies the update to
 * `serverDoc`, and returns the changed keys as the server sees them, plus a `read` of the
 * server's post-change state.
 */
export function changesOf(
  kind: DocKind,
  serverDoc: Y.Doc,
  write: (clientDoc: Y.Doc) => void,
): { changes: FieldChange[]; read: (map: string, key: string) => unknown } {
  const client = new Y.Doc()
  Y.applyUpdate(client, Y.encodeStateAsUpdate(serverDoc))
  const before = Y.encodeStateVector(client)
  write(client)
  const update = Y.encodeStateAsUpdate(client, before)
  const changes: FieldChange[] = []
  const maps = new Set<string>(ROOT_MAPS[kind])
  // Hostile clients may write to maps outside the layout: listen to every root type.
  for (const name of client.share.keys()) maps.add(name)
  const stops: (() => void)[] = []
  for (const name of maps) {
    const map = serverDoc.getMap<unknown>(name)
    const observer = (event: Y.YMapEvent<unknown>) => {
      event.changes.keys.forEach((change, key) => {
        changes.push({
          map: name,
          key,
          oldValue: change.action === 'add' ? undefined : plain(change.oldValue),
          newValue: change.action === 'delete' ? undefined : plain(map.get(key)),
        })
      })
    }
    map.observe(observer)
    stops.push(() => map.unobserve(observer))
  }
  Y.applyUpdate(serverDoc, update)
  for (const stop of stops) stop()
  return {
    changes,
    read: (map, key) => plain(serverDoc.getMap<unknown>(map).get(key)),
  }
}

/** A policy context for `docName` as `actor`, reading definitions from `schema`. */
export function policy(
  actor: Actor,
  docName: string,
  view: SchemaView,
  read: (map: string, key: string) => unknown,
): PolicyContext {
  return {
    actor,
    doc: parseDocName(docName)!,
    definitions: view.definitions,
    settings: view.settings,
    read,
    now: NOW,
  }
}
