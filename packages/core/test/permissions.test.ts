import { describe, expect, it } from 'vitest'
import { PLANS, ROLES, canEdit, capabilities, checkCrmManagedMark, checkWrite } from '../src/index'
import type { Actor, FieldRef, Plan, Role, SchemaView } from '../src/index'
import { withSettings, workspace } from './helpers'

const as = (role: Role): Actor => ({ userId: `${role}-1`, role })
const codeOf = (role: Role, field: FieldRef, view: SchemaView) => {
  const result = checkWrite(as(role), field, view)
  return result.ok ? 'ok' : result.code
}
const table = (field: FieldRef, view: SchemaView) =>
  Object.fromEntries(ROLES.map((role) => [role, codeOf(role, field, view)]))

const { schema } = workspace('advanced')
const advanced = schema.view()
const onPlan = (plan: Plan) => withSettings(advanced, { plan })

describe('plans', () => {
  it('gives the default capabilities of PRODUCT.md', () => {
    expect(capabilities('standard')).toEqual({
      agentValueEdits: false,
      vip: false,
      crm: false,
      crmAgentEdits: false,
      exports: false,
    })
    expect(capabilities('business')).toEqual({
      agentValueEdits: true,
      vip: false,
      crm: false,
      crmAgentEdits: false,
      exports: false,
    })
    for (const plan of ['advanced', 'enterprise'] as const) {
      expect(Object.values(capabilities(plan)).every(Boolean)).toBe(true)
    }
    expect(PLANS.map((p) => capabilities(p).agentValueEdits)).toEqual([false, true, true, true])
  })
})

describe('checkWrite: schema', () => {
  it('lets only admins and the system change definitions, options and settings', () => {
    const fields: FieldRef[] = [
      { kind: 'attribute', attributeId: 'plan', prop: 'label' },
      { kind: 'attribute', attributeId: 'new_one', prop: 'kind' },
      { kind: 'option', attributeId: 'plan', optionId: 'gold', prop: 'retired' },
      { kind: 'channel-visibility', attributeId: 'phone_number', channel: 'sms' },
      { kind: 'setting', key: 'vipEnabled' },
    ]
    for (const field of fields) {
      expect(table(field, advanced)).toEqual({
        admin: 'ok',
        agent: 'forbidden',
        bot: 'forbidden',
        crm: 'forbidden',
        system: 'ok',
      })
    }
  })

  it('lets only the system change the plan', () => {
    expect(table({ kind: 'setting', key: 'plan' }, advanced)).toEqual({
      admin: 'forbidden',
      agent: 'forbidden',
      bot: 'forbidden',
      crm: 'forbidden',
      system: 'ok',
    })
  })

  it('lets admins rename, alias, look up and place platform attributes, nothing else', () => {
    const prop = (
      p: 'label' | 'alias' | 'lookup' | 'order' | 'maxLength' | 'retired' | 'visible',
    ) => codeOf('admin', { kind: 'attribute', attributeId: 'x_handle', prop: p }, advanced)
    expect(['label', 'alias', 'lookup', 'order'].map((p) => prop(p as 'label'))).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
    ])
    expect(prop('maxLength')).toBe('forbidden')
    expect(prop('retired')).toBe('forbidden')
    expect(prop('visible')).toBe('forbidden')
    expect(
      codeOf(
        'admin',
        { kind: 'option', attributeId: 'x_handle', optionId: 'o', prop: 'label' },
        advanced,
      ),
    ).toBe('forbidden')
    expect(
      codeOf('system', { kind: 'attribute', attributeId: 'x_handle', prop: 'maxLength' }, advanced),
    ).toBe('ok')
  })
})

describe('checkWrite: contacts', () => {
  it('lets only the system write the profile and platform values', () => {
    const only = {
      admin: 'forbidden',
      agent: 'forbidden',
      bot: 'forbidden',
      crm: 'forbidden',
      system: 'ok',
    }
    expect(table({ kind: 'profile', key: 'hint' }, advanced)).toEqual(only)
    expect(table({ kind: 'platform-value', attributeId: 'x_handle' }, advanced)).toEqual(only)
  })

  it('lets admins, agents, the bot and the system write custom values, not the CRM', () => {
    expect(table({ kind: 'custom-value', attributeId: 'plan' }, advanced)).toEqual({
      admin: 'ok',
      agent: 'ok',
      bot: 'ok',
      crm: 'forbidden',
      system: 'ok',
    })
  })

  it('refuses agent value edits on the standard plan, but not admin ones', () => {
    const field: FieldRef = { kind: 'custom-value', attributeId: 'plan' }
    expect(codeOf('agent', field, onPlan('standard'))).toBe('plan-lacks-feature')
    expect(codeOf('admin', field, onPlan('standard'))).toBe('ok')
    for (const plan of ['advanced', 'business', 'enterprise'] as const) {
      expect(codeOf('agent', field, onPlan(plan))).toBe('ok')
    }
  })

  it('locks CRM-managed values to the CRM, the system and admins while agent edits are off', () => {
    expect(table({ kind: 'custom-value', attributeId: 'crm_tier' }, advanced)).toEqual({
      admin: 'ok',
      agent: 'crm-managed-locked',
      bot: 'crm-managed-locked',
      crm: 'ok',
      system: 'ok',
    })
  })

  it('lets agents edit CRM-managed values only when the setting and the plan allow it', () => {
    const field: FieldRef = { kind: 'custom-value', attributeId: 'crm_tier' }
    const on = withSettings(advanced, { agentsMayEditCrm: true })
    expect(codeOf('agent', field, on)).toBe('ok')
    expect(codeOf('admin', field, on)).toBe('ok')
    expect(codeOf('bot', field, on)).toBe('crm-managed-locked')
    const onEnterprise = withSettings(advanced, { agentsMayEditCrm: false, plan: 'enterprise' })
    expect(codeOf('agent', field, onEnterprise)).toBe('crm-managed-locked')
    expect(codeOf('admin', field, onEnterprise)).toBe('ok')
  })

  it('locks nobody out of a CRM-managed attribute on a plan without the CRM', () => {
    const field: FieldRef = { kind: 'custom-value', attributeId: 'crm_tier' }
    const business = withSettings(advanced, { agentsMayEditCrm: false, plan: 'business' })
    expect(codeOf('agent', field, business)).toBe('ok')
    expect(codeOf('admin', field, business)).toBe('ok')
    expect(codeOf('bot', field, business)).toBe('ok')
    expect(codeOf('crm', field, business)).toBe('plan-lacks-feature')
    expect(codeOf('agent', field, onPlan('standard'))).toBe('plan-lacks-feature')
  })

  it('lets admins and the system mark attributes CRM-managed only on a plan with the CRM', () => {
    for (const plan of ['standard', 'business'] as const) {
      expect(checkCrmManagedMark(as('admin'), onPlan(plan))).toMatchObject({
        ok: false,
        code: 'plan-lacks-feature',
      })
    }
    for (const plan of ['advanced', 'enterprise'] as const) {
      expect(checkCrmManagedMark(as('admin'), onPlan(plan)).ok).toBe(true)
    }
    expect(checkCrmManagedMark(as('agent'), advanced)).toMatchObject({ code: 'forbidden' })
  })

  it('refuses CRM writes on a plan without CRM', () => {
    const field: FieldRef = { kind: 'custom-value', attributeId: 'crm_tier' }
    expect(codeOf('crm', field, onPlan('business'))).toBe('plan-lacks-feature')
    expect(codeOf('crm', field, onPlan('enterprise'))).toBe('ok')
  })

  it('lets admins, agents and the system set VIP when the plan has it and it is on', () => {
    expect(table({ kind: 'vip' }, advanced)).toEqual({
      admin: 'ok',
      agent: 'ok',
      bot: 'forbidden',
      crm: 'forbidden',
      system: 'ok',
    })
    expect(codeOf('agent', { kind: 'vip' }, onPlan('business'))).toBe('plan-lacks-feature')
    expect(codeOf('agent', { kind: 'vip' }, onPlan('standard'))).toBe('plan-lacks-feature')
    const off = withSettings(advanced, { vipEnabled: false })
    expect(codeOf('agent', { kind: 'vip' }, off)).toBe('vip-disabled')
    expect(codeOf('admin', { kind: 'vip' }, off)).toBe('vip-disabled')
  })
})

describe('checkWrite: conversations', () => {
  it('lets agents, admins, the bot and the system change the status', () => {
    expect(table({ kind: 'conversation-meta', key: 'status' }, advanced)).toEqual({
      admin: 'ok',
      agent: 'ok',
      bot: 'ok',
      crm: 'forbidden',
      system: 'ok',
    })
  })

  it('lets admins and the system set team and priority', () => {
    for (const key of ['team', 'priority'] as const) {
      expect(table({ kind: 'conversation-meta', key }, advanced)).toEqual({
        admin: 'ok',
        agent: 'forbidden',
        bot: 'forbidden',
        crm: 'forbidden',
        system: 'ok',
      })
    }
  })

  it('lets only the system set contact, channel and creation time', () => {
    for (const key of ['contactId', 'channel', 'createdAt'] as const) {
      expect(table({ kind: 'conversation-meta', key }, advanced)).toEqual({
        admin: 'forbidden',
        agent: 'forbidden',
        bot: 'forbidden',
        crm: 'forbidden',
        system: 'ok',
      })
    }
  })

  it('lets anyone but the CRM add a message, and only the system touch an existing one', () => {
    expect(table({ kind: 'message', messageId: 'm1', existing: false }, advanced)).toEqual({
      admin: 'ok',
      agent: 'ok',
      bot: 'ok',
      crm: 'forbidden',
      system: 'ok',
    })
    expect(table({ kind: 'message', messageId: 'm1', existing: true }, advanced)).toEqual({
      admin: 'forbidden',
      agent: 'forbidden',
      bot: 'forbidden',
      crm: 'forbidden',
      system: 'ok',
    })
  })
})

describe('canEdit', () => {
  it('answers checkWrite as a boolean', () => {
    expect(canEdit(as('agent'), { kind: 'custom-value', attributeId: 'plan' }, advanced)).toBe(true)
    expect(canEdit(as('agent'), { kind: 'setting', key: 'vipEnabled' }, advanced)).toBe(false)
  })
})
