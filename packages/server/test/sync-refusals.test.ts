import type { SchemaDoc } from '@cardfile/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { RawClient, TestServer } from './sync-helpers'
import {
  connectSynced,
  editSchema,
  expectPoll,
  fieldValue,
  loadFromStorage,
  makeToken,
  startSeededServer,
} from './sync-helpers'

const MALLORY = { role: 'agent' as const, userId: 'mallory' }

interface Rule {
  readonly name: string
  readonly doc: string
  /** The forbidden map/key, the code the sender must get, and the marker of the bad value. */
  readonly map: string
  readonly key: string
  readonly code: string
  readonly marker: string
  readonly settings?: Parameters<SchemaDoc['updateSettings']>[0]
  /** Writes the forbidden change into the hostile client's own doc (sent raw). */
  readonly attack: (doc: Y.Doc) => void
  /** An allowed later edit by the same sender, and how to see that it applied. */
  readonly allowed: (doc: Y.Doc) => void
  readonly allowedApplied: (doc: Y.Doc) => boolean
}

const setNote = (doc: Y.Doc) => doc.getMap('custom').set('note', fieldValue('fine', MALLORY))
const noteApplied = (doc: Y.Doc) =>
  (doc.getMap('custom').get('note') as { value?: unknown } | undefined)?.value === 'fine'

const RULES: readonly Rule[] = [
  {
    name: 'an agent writing a platform value',
    doc: 'demo/contact/c1',
    map: 'platform',
    key: 'email',
    code: 'forbidden',
    marker: 'evil@example.com',
    attack: (doc) => doc.getMap('platform').set('email', fieldValue('evil@example.com', MALLORY)),
    allowed: setNote,
    allowedApplied: noteApplied,
  },
  {
    name: 'an agent editing the schema',
    doc: 'demo/schema',
    map: 'attributes',
    key: 'plan:label',
    code: 'forbidden',
    marker: 'Hijacked',
    attack: (doc) => doc.getMap('attributes').set('plan:label', 'Hijacked'),
    // Agents may not write the schema at all; their later allowed action is presence.
    allowed: () => undefined,
    allowedApplied: () => true,
  },
  {
    name: 'a CRM-managed value while agent edits are off',
    doc: 'demo/contact/c1',
    map: 'custom',
    key: 'crm_tier',
    code: 'crm-managed-locked',
    marker: 'platinum-tier',
    settings: { agentsMayEditCrm: false },
    attack: (doc) => doc.getMap('custom').set('crm_tier', fieldValue('platinum-tier', MALLORY)),
    allowed: setNote,
    allowedApplied: noteApplied,
  },
  {
    name: 'a dropdown value that is not an option',
    doc: 'demo/contact/c1',
    map: 'custom',
    key: 'plan',
    code: 'not-an-option',
    marker: 'diamond',
    attack: (doc) => doc.getMap('custom').set('plan', fieldValue('diamond', MALLORY)),
    allowed: (doc) => doc.getMap('custom').set('plan', fieldValue('gold', MALLORY)),
    allowedApplied: (doc) =>
      (doc.getMap('custom').get('plan') as { value?: unknown } | undefined)?.value === 'gold',
  },
  {
    name: 'an over-long text',
    doc: 'demo/contact/c1',
    map: 'custom',
    key: 'note',
    code: 'too-long',
    marker: 'way-too-long-for-note',
    attack: (doc) => doc.getMap('custom').set('note', fieldValue('way-too-long-for-note', MALLORY)),
    allowed: setNote,
    allowedApplied: noteApplied,
  },
  {
    name: 'VIP while VIP is off',
    doc: 'demo/contact/c1',
    map: 'flags',
    key: 'vip',
    code: 'vip-disabled',
    marker: 'vip-marker',
    settings: { vipEnabled: false },
    attack: (doc) =>
      doc.getMap('flags').set('vip', { ...fieldValue(true, MALLORY), note: 'vip-marker' }),
    allowed: setNote,
    allowedApplied: noteApplied,
  },
  {
    name: 'a nested Y.Map value',
    doc: 'demo/contact/c1',
    map: 'custom',
    key: 'note',
    code: 'invalid-value',
    marker: 'nested-marker',
    attack: (doc) => {
      const nested = new Y.Map<string>()
      doc.getMap('custom').set('note', nested)
      nested.set('value', 'nested-marker')
    },
    allowed: setNote,
    allowedApplied: noteApplied,
  },
  {
    name: 'a root map the layout does not have',
    doc: 'demo/contact/c1',
    map: 'evil',
    key: '',
    code: 'unknown-field',
    marker: 'unknown-root-marker',
    attack: (doc) => doc.getMap('evil').set('x', 'unknown-root-marker'),
    allowed: setNote,
    allowedApplied: noteApplied,
  },
]

/** Every value of `map`/`key` (or of any unknown root) the observer ever held after a change. */
function recordValues(client: RawClient, rule: Rule): string[] {
  const seen: string[] = []
  client.doc.on('afterTransaction', () => {
    seen.push(mapJson(client.doc, rule.map))
  })
  return seen
}

/** A root map as JSON with sorted keys (key order depends on integration order). */
const mapJson = (doc: Y.Doc, map: string): string => {
  const json = doc.getMap(map).toJSON()
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(json)
        .sort()
        .map((k) => [k, json[k]]),
    ),
  )
}

const contains = (bytes: Uint8Array, marker: string): boolean =>
  Buffer.from(bytes).includes(Buffer.from(marker))

describe('authorization by compensation against a hostile client', () => {
  let t: TestServer
  beforeEach(async () => {
    t = await startSeededServer()
  })
  afterEach(async () => {
    await t.close()
  })

  for (const rule of RULES) {
    it(`refuses ${rule.name}, converges every replica and keeps later allowed edits`, async () => {
      if (rule.settings !== undefined) {
        const patch = rule.settings
        await editSchema(t.server, 'demo', (s) => s.updateSettings(patch))
      }
      const hostile = await connectSynced(
        t.server,
        rule.doc,
        await makeToken({ user: 'mallory', role: 'agent' }),
      )
      const observer = await connectSynced(
        t.server,
        rule.doc,
        await makeToken({ user: 'ana', role: 'admin' }),
      )
      const before = mapJson(observer.doc, rule.map)
      const seen = recordValues(observer, rule)

      rule.attack(hostile.doc)
      await expectPoll(() => hostile.refusals.length > 0)
      expect(hostile.refusals[0]).toMatchObject({ doc: rule.doc, map: rule.map, code: rule.code })
      if (rule.key !== '') expect(hostile.refusals[0]?.key).toBe(rule.key)

      // The sender converges back to the allowed state, and so does everyone else.
      await expectPoll(() => mapJson(hostile.doc, rule.map) === before)
      await expectPoll(() => hostile.saved())
      expect(mapJson(observer.doc, rule.map)).toBe(before)
      expect(seen.some((json) => json.includes(rule.marker))).toBe(false)

      // Nothing of the refused value reached backend, not even as bytes.
      const stored = await t.backend.documents.load(rule.doc)
      expect(stored.some((u) => contains(u, rule.marker))).toBe(false)
      const reloaded = await loadFromStorage(t.backend, rule.doc)
      expect(mapJson(reloaded, rule.map)).toBe(before)

      // The sender is not stuck: its later allowed edit applies everywhere and is stored.
      rule.allowed(hostile.doc)
      await expectPoll(() => rule.allowedApplied(observer.doc))
      await expectPoll(() => hostile.saved())
      expect(rule.allowedApplied(await loadFromStorage(t.backend, rule.doc))).toBe(true)
      expect(hostile.refusals).toHaveLength(1)
      expect(Y.encodeStateVector(hostile.doc)).toEqual(Y.encodeStateVector(observer.doc))
      expect(hostile.closeInfo).toBeNull()
      expect(t.server.metrics.refusals.get({ code: rule.code })).toBe(1)
      hostile.close()
      observer.close()
    })
  }

  it('keeps an allowed edit sent before the sender saw the compensation of the same key', async () => {
    const hostile = await connectSynced(
      t.server,
      'demo/contact/c1',
      await makeToken({ user: 'mallory', role: 'agent' }),
    )
    const observer = await connectSynced(
      t.server,
      'demo/contact/c1',
      await makeToken({ user: 'ana', role: 'admin' }),
    )
    hostile.doc.transact(() => {
      hostile.doc.getMap('custom').set('plan', fieldValue('diamond', MALLORY))
    })
    hostile.doc.getMap('custom').set('plan', fieldValue('gold', MALLORY))
    await expectPoll(() => hostile.refusals.length === 1)
    const planOf = (c: RawClient) =>
      (c.doc.getMap('custom').get('plan') as { value?: unknown } | undefined)?.value
    await expectPoll(() => planOf(observer) === 'gold' && planOf(hostile) === 'gold')
    await expectPoll(() => hostile.saved())
    const reloaded = await loadFromStorage(t.backend, 'demo/contact/c1')
    expect((reloaded.getMap('custom').get('plan') as { value: unknown }).value).toBe('gold')
  })

  it('refuses a value whose provenance names someone else', async () => {
    const hostile = await connectSynced(
      t.server,
      'demo/contact/c1',
      await makeToken({ user: 'mallory', role: 'agent' }),
    )
    hostile.doc.getMap('custom').set('note', fieldValue('ok', { role: 'agent', userId: 'ana' }))
    await expectPoll(() => hostile.refusals.length === 1)
    expect(hostile.refusals[0]?.code).toBe('provenance-mismatch')
    await expectPoll(() => hostile.doc.getMap('custom').get('note') === undefined)
  })
})
