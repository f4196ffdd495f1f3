import { SchemaDoc, attributeKey, schemaDocName, sortByOrder } from '@cardfile/core'
import type { Actor, Role } from '@cardfile/core'
import type { CardfileServer } from '@cardfile/server'
import { describe, expect, it } from 'vitest'
import type * as Y from 'yjs'
import { WORKSPACE, startServer } from '../client/harness'
import { expectRefusedEverywhere, seedContactAndConversation } from './hostile-client'
import type { HostileCase } from './hostile-client'

/*
 * A hostile client: raw ws + y-protocols and its own Y.Doc, no SDK checks. Each case writes
 * something the rules refuse; the server must undo it for every replica, tell the sender the
 * code, keep storage at the allowed state and leave the other clients (real SDK clients)
 * working.
 */

const SYSTEM: Actor = { userId: 'system', role: 'system' }
const NOW = Date.now()
const YEAR = 365 * 24 * 3600 * 1000

/** Workspace `demo`: a dropdown `plan`, a text `note` (max 10) and a retired text `old`. */
async function seed(server: CardfileServer): Promise<void> {
  await server.host.transact(schemaDocName(WORKSPACE), SYSTEM, (doc) => {
    const schema = new SchemaDoc(doc)
    schema.createAttribute({
      id: 'plan',
      label: 'Plan',
      type: 'dropdown',
      options: [
        { id: 'gold', label: 'Gold' },
        { id: 'silver', label: 'Silver' },
      ],
    })
    schema.createAttribute({ id: 'note', label: 'Note', type: 'text', maxLength: 10 })
    schema.createAttribute({ id: 'old', label: 'Old', type: 'text' })
    schema.retireAttribute('old')
    schema.destroy()
  })
  await seedContactAndConversation(server, NOW)
}

const attrs = (doc: Y.Doc) => doc.getMap('attributes')
const by = (role: Role, userId: string, at = NOW) => ({ role, userId, at })
const message = (id: string, patch: Record<string, unknown> = {}) => ({
  id,
  direction: 'outbound',
  author: by('agent', 'bo'),
  text: 'hi',
  at: NOW,
  attachments: [],
  ...patch,
})

const CASES: readonly HostileCase[] = [
  {
    name: 'options written for an attribute that does not exist',
    doc: 'schema',
    role: 'admin',
    refused: ['options:ghost:o1:label', 'invalid-definition'],
    write: (d) => {
      d.getMap('options').set('ghost:o1:label', 'Boo')
      d.getMap('options').set('ghost:o1:order', 'a0')
      d.getMap('options').set('ghost:o1:retired', false)
    },
  },
  {
    name: 'options written for a text attribute',
    doc: 'schema',
    role: 'admin',
    refused: ['options:note:o1:label', 'invalid-definition'],
    write: (d) => {
      d.getMap('options').set('note:o1:label', 'One')
      d.getMap('options').set('note:o1:order', 'a0')
      d.getMap('options').set('note:o1:retired', false)
    },
  },
  {
    name: 'an option id that is not an id',
    doc: 'schema',
    role: 'admin',
    refused: ['options:plan:<b>x</b>:label', 'unknown-field'],
    write: (d) => d.getMap('options').set('plan:<b>x</b>:label', 'X'),
  },
  {
    name: 'an option label of a megabyte of spaces',
    doc: 'schema',
    role: 'admin',
    refused: ['options:plan:gold:label', 'invalid-label'],
    write: (d) => d.getMap('options').set('plan:gold:label', `G${' '.repeat(500_000)}`),
  },
  {
    name: 'a VIP priority boost of 1e308',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:vipPriorityBoost', 'invalid-value'],
    write: (d) => d.getMap('settings').set('vipPriorityBoost', 1e308),
  },
  {
    name: 'a negative VIP priority boost',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:vipPriorityBoost', 'invalid-value'],
    write: (d) => d.getMap('settings').set('vipPriorityBoost', -5),
  },
  {
    name: 'a VIP priority boost of Infinity (not JSON)',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:vipPriorityBoost', 'invalid-value'],
    write: (d) => d.getMap('settings').set('vipPriorityBoost', Infinity),
  },
  {
    name: 'a VIP priority boost given as text',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:vipPriorityBoost', 'invalid-value'],
    write: (d) => d.getMap('settings').set('vipPriorityBoost', '10'),
  },
  {
    name: 'a matching attribute that does not exist',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:matchingAttribute', 'unknown-attribute'],
    write: (d) => d.getMap('settings').set('matchingAttribute', 'ghost'),
  },
  {
    name: 'a retired matching attribute',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:matchingAttribute', 'retired-attribute'],
    write: (d) => d.getMap('settings').set('matchingAttribute', 'old'),
  },
  {
    name: 'a VIP team of 100,000 characters',
    doc: 'schema',
    role: 'admin',
    refused: ['settings:vipTeam', 'invalid-value'],
    write: (d) => d.getMap('settings').set('vipTeam', 't'.repeat(100_000)),
  },
  {
    name: 'a label of 100,000 characters',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:note:label', 'invalid-label'],
    write: (d) => attrs(d).set(attributeKey('note', 'label'), 'L'.repeat(100_000)),
  },
  {
    name: 'an alias of 100,000 characters',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:note:alias', 'invalid-definition'],
    write: (d) => attrs(d).set(attributeKey('note', 'alias'), 'a'.repeat(100_000)),
  },
  {
    name: 'a maxLength of 1e9',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:note:maxLength', 'invalid-definition'],
    write: (d) => attrs(d).set(attributeKey('note', 'maxLength'), 1e9),
  },
  {
    name: 'visibility on a channel the platform attribute does not belong to',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:x_handle:visible:sms', 'invalid-value'],
    write: (d) => attrs(d).set('x_handle:visible:sms', false),
  },
  {
    name: 'visibility on an unknown channel',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:x_handle:visible:fax', 'unknown-field'],
    write: (d) => attrs(d).set('x_handle:visible:fax', false),
  },
  {
    name: 'per-channel visibility of a custom attribute',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:note:visible:x', 'invalid-value'],
    write: (d) => attrs(d).set('note:visible:x', false),
  },
  {
    name: 'an order key with a character outside base 62',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:note:order', 'invalid-value'],
    write: (d) => attrs(d).set(attributeKey('note', 'order'), 'a0~'),
  },
  {
    name: 'an order key that is not a key at all',
    doc: 'schema',
    role: 'admin',
    refused: ['attributes:plan:order', 'invalid-value'],
    write: (d) => attrs(d).set(attributeKey('plan', 'order'), ''),
  },
  {
    name: 'an agent writing a profile key',
    doc: 'contact',
    role: 'agent',
    refused: ['profile:hint', 'forbidden'],
    write: (d) => d.getMap('profile').set('hint', 'someone else'),
  },
  {
    name: 'a value of a retired attribute',
    doc: 'contact',
    role: 'agent',
    refused: ['custom:old', 'retired-attribute'],
    write: (d) => d.getMap('custom').set('old', { value: 'x', by: by('agent', 'bo') }),
  },
  {
    name: 'a value of an attribute that does not exist',
    doc: 'contact',
    role: 'agent',
    refused: ['custom:ghost', 'unknown-attribute'],
    write: (d) => d.getMap('custom').set('ghost', { value: 'x', by: by('agent', 'bo') }),
  },
  {
    name: 'a raw null for an attribute that does not exist',
    doc: 'contact',
    role: 'agent',
    refused: ['custom:ghost', 'unknown-attribute'],
    write: (d) => d.getMap('custom').set('ghost', null),
  },
  {
    name: 'a value dated ten years ahead',
    doc: 'contact',
    role: 'agent',
    refused: ['custom:note', 'provenance-mismatch'],
    write: (d) =>
      d.getMap('custom').set('note', { value: 'x', by: by('agent', 'bo', NOW + 10 * YEAR) }),
  },
  {
    name: 'a value dated before 1970',
    doc: 'contact',
    role: 'agent',
    refused: ['custom:note', 'invalid-value'],
    write: (d) => d.getMap('custom').set('note', { value: 'x', by: by('agent', 'bo', -1) }),
  },
  {
    name: 'a conversation status of the wrong type',
    doc: 'conversation',
    role: 'agent',
    refused: ['meta:status', 'invalid-value'],
    write: (d) => d.getMap('meta').set('status', 42),
  },
  {
    name: 'a conversation priority given as text, by an admin',
    doc: 'conversation',
    role: 'admin',
    refused: ['meta:priority', 'invalid-value'],
    write: (d) => d.getMap('meta').set('priority', 'urgent'),
  },
  {
    name: 'a message over the longest text',
    doc: 'conversation',
    role: 'agent',
    refused: ['messages:m1', 'invalid-value'],
    write: (d) => d.getMap('messages').set('m1', message('m1', { text: 'x'.repeat(20_001) })),
  },
  {
    name: 'a message signed by another agent',
    doc: 'conversation',
    role: 'agent',
    refused: ['messages:m1', 'provenance-mismatch'],
    write: (d) => d.getMap('messages').set('m1', message('m1', { author: by('agent', 'ana') })),
  },
  {
    name: 'a message posted as the contact',
    doc: 'conversation',
    role: 'agent',
    refused: ['messages:m1', 'forbidden'],
    write: (d) => d.getMap('messages').set('m1', message('m1', { direction: 'inbound' })),
  },
  {
    name: 'a message dated ten years ahead',
    doc: 'conversation',
    role: 'agent',
    refused: ['messages:m1', 'provenance-mismatch'],
    write: (d) => d.getMap('messages').set('m1', message('m1', { at: NOW + 10 * YEAR })),
  },
]

describe('a hostile client sending raw Yjs updates', () => {
  for (const c of CASES) {
    it(`is refused ${c.name}; every replica and storage keep the allowed state`, async () => {
      const { server } = await startServer()
      await seed(server)
      const { observer, handle, hostile } = await expectRefusedEverywhere(server, c)
      expect(handle.error()).toBeNull()
      // the observer still reads and writes: the schema in order, the others through a check
      if (c.doc === 'schema') {
        const schema = observer.schema().schema
        const ids = schema.definitions().map((d) => d.id)
        expect(sortByOrder(schema.definitions()).map((d) => d.id)).toEqual(ids)
        schema.moveAttribute('note', { before: 'plan' })
        expect(schema.definitions().findIndex((d) => d.id === 'note')).toBe(
          schema.definitions().findIndex((d) => d.id === 'plan') - 1,
        )
      }
      await expect.poll(() => handle.status()).toMatchObject({ status: 'synced', saved: true })
      hostile.close()
    })
  }
})
