import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import { CRM_FLAG_KEYS, authorizeChanges, checkWrite, fieldRefOf } from '../src/index'
import type { Actor, Refusal } from '../src/index'
import { admin, agent, bot, changesOf, crm, policy, system, workspace } from './helpers'

function judge(actor: Actor, write: (flags: Y.Map<unknown>) => void): Refusal[] {
  const { schema } = workspace('advanced')
  const { changes, read } = changesOf('contact', new Y.Doc(), (client) =>
    write(client.getMap('flags')),
  )
  expect(changes.length).toBeGreaterThan(0)
  return authorizeChanges(changes, policy(actor, 'demo/contact/c1', schema.view(), read))
}

describe('CRM status flags of a contact', () => {
  it('names crmValidated, crmLookupAt and crmPending as CRM status fields', () => {
    for (const key of CRM_FLAG_KEYS) {
      expect(fieldRefOf('contact', 'flags', key)).toEqual({ kind: 'crm-status', key })
    }
    expect(fieldRefOf('contact', 'flags', 'crmOther')).toBeNull()
  })

  it('lets only the system write them', () => {
    const view = workspace('enterprise').schema.view()
    for (const actor of [admin, agent, bot, crm]) {
      const result = checkWrite(actor, { kind: 'crm-status', key: 'crmValidated' }, view)
      expect(result).toMatchObject({ ok: false, code: 'forbidden' })
    }
    expect(checkWrite(system, { kind: 'crm-status', key: 'crmValidated' }, view).ok).toBe(true)
  })

  it('refuses an agent who marks a contact as validated by hand', () => {
    const refusals = judge(agent, (flags) => flags.set('crmValidated', true))
    expect(refusals.map((r) => `${r.key} ${r.code}`)).toEqual(['crmValidated forbidden'])
  })

  it('accepts well-formed values from the system', () => {
    const refusals = judge(system, (flags) => {
      flags.set('crmValidated', false)
      flags.set('crmLookupAt', 1_700_000_000_000)
      flags.set('crmPending', ['plan', 'account_id'])
    })
    expect(refusals).toEqual([])
  })

  it('refuses malformed values even from the system', () => {
    const refusals = judge(system, (flags) => {
      flags.set('crmValidated', 'yes')
      flags.set('crmLookupAt', 'today')
      flags.set('crmPending', ['not an id!'])
    })
    expect(refusals.map((r) => `${r.key} ${r.code}`).sort()).toEqual([
      'crmLookupAt invalid-value',
      'crmPending invalid-value',
      'crmValidated invalid-value',
    ])
  })
})
