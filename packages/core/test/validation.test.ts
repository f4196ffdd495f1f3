import { describe, expect, it } from 'vitest'
import { validateDefinition, validateSetting, validateValue } from '../src/index'
import type { AttributeDefinition, DropdownOption } from '../src/index'
import { customDefinition, workspace } from './helpers'

const option = (id: string, label: string, order: string, retired = false): DropdownOption => ({
  id,
  label,
  order,
  retired,
})

const text = (patch: Partial<AttributeDefinition> = {}): AttributeDefinition =>
  customDefinition('text', { id: 'nickname', label: 'Nickname', alias: 'nickname', ...patch })

const dropdown = (patch: Partial<AttributeDefinition> = {}): AttributeDefinition =>
  text({
    id: 'size',
    label: 'Size',
    alias: 'size',
    type: 'dropdown',
    options: [option('s', 'Small', 'a0'), option('l', 'Large', 'a1')],
    ...patch,
  })

const codeOf = (result: { ok: boolean; code?: string }) => (result.ok ? 'ok' : result.code)

describe('validateDefinition', () => {
  const { schema } = workspace()
  const others = schema.definitions()

  it('accepts a well-formed text attribute and a well-formed dropdown', () => {
    expect(validateDefinition(text(), others)).toEqual({ ok: true })
    expect(validateDefinition(dropdown(), others)).toEqual({ ok: true })
  })

  it('accepts every seeded platform attribute and the fixture attributes', () => {
    for (const def of others) expect(codeOf(validateDefinition(def, others))).toBe('ok')
  })

  it('refuses empty, blank and over-long labels', () => {
    expect(codeOf(validateDefinition(text({ label: '' }), others))).toBe('invalid-label')
    expect(codeOf(validateDefinition(text({ label: '   ' }), others))).toBe('invalid-label')
    expect(codeOf(validateDefinition(text({ label: 'x'.repeat(101) }), others))).toBe(
      'invalid-label',
    )
    expect(codeOf(validateDefinition(text({ label: ` ${'x'.repeat(100)} ` }), others))).toBe('ok')
    // blank padding counts once it is more than stray spaces
    const padded = `x${' '.repeat(100_000)}`
    expect(codeOf(validateDefinition(text({ label: padded }), others))).toBe('invalid-label')
    const options = [option('a', 'A', 'a0'), option('b', `B${'\t'.repeat(300)}`, 'a1')]
    expect(codeOf(validateDefinition(dropdown({ options }), others))).toBe('invalid-label')
  })

  it('refuses a label another live attribute has, ignoring case and spaces', () => {
    expect(codeOf(validateDefinition(text({ label: ' plan ' }), others))).toBe('duplicate-label')
    expect(codeOf(validateDefinition(text({ label: 'EMAIL' }), others))).toBe('duplicate-label')
  })

  it('allows the label of a retired attribute, and a retired attribute to share a label', () => {
    const retiredPlan = { ...schema.definition('plan')!, retired: true }
    const rest = others.filter((d) => d.id !== 'plan').concat(retiredPlan)
    expect(codeOf(validateDefinition(text({ label: 'Plan' }), rest))).toBe('ok')
    expect(codeOf(validateDefinition(text({ label: 'Email', retired: true }), others))).toBe('ok')
  })

  it('skips the definition itself among the others', () => {
    expect(codeOf(validateDefinition(schema.definition('plan')!, others))).toBe('ok')
  })

  it('refuses malformed and duplicate aliases', () => {
    expect(codeOf(validateDefinition(text({ alias: 'has space' }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(text({ alias: '' }), others))).toBe('invalid-definition')
    expect(codeOf(validateDefinition(text({ alias: 'a'.repeat(65) }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(text({ alias: 'crm.key-1_x' }), others))).toBe('ok')
    expect(codeOf(validateDefinition(text({ alias: 'Account_ID' }), others))).toBe(
      'duplicate-alias',
    )
  })

  it('refuses a maxLength outside 1..10000 or not an integer', () => {
    for (const maxLength of [0, -1, 10_001, 1.5, Number.NaN]) {
      expect(codeOf(validateDefinition(text({ maxLength }), others))).toBe('invalid-definition')
    }
    expect(codeOf(validateDefinition(text({ maxLength: 1 }), others))).toBe('ok')
    expect(codeOf(validateDefinition(text({ maxLength: 10_000 }), others))).toBe('ok')
  })

  it('refuses a CRM-managed platform attribute', () => {
    const phone = schema.definition('phone_number')!
    expect(codeOf(validateDefinition({ ...phone, crmManaged: true }, others))).toBe(
      'platform-not-crm-managed',
    )
    expect(codeOf(validateDefinition({ ...phone, lookup: true }, others))).toBe('ok')
  })

  it('refuses platform attributes without channels and custom ones with channels', () => {
    const phone = schema.definition('phone_number')!
    expect(codeOf(validateDefinition({ ...phone, channels: [] }, others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(text({ channels: ['sms'] }), others))).toBe(
      'invalid-definition',
    )
  })

  it('refuses bad ids, bad order keys and unknown kinds or types', () => {
    expect(codeOf(validateDefinition(text({ id: 'no spaces' }), others))).toBe('invalid-definition')
    expect(codeOf(validateDefinition(text({ order: '' }), others))).toBe('invalid-definition')
    expect(codeOf(validateDefinition(text({ order: 'a' }), others))).toBe('invalid-definition')
    const badKind = { ...text(), kind: 'magic' } as unknown as AttributeDefinition
    expect(codeOf(validateDefinition(badKind, others))).toBe('invalid-definition')
    const badType = { ...text(), type: 'currency' } as unknown as AttributeDefinition
    expect(codeOf(validateDefinition(badType, others))).toBe('invalid-definition')
  })

  it('refuses a dropdown with fewer than two live options', () => {
    expect(codeOf(validateDefinition(dropdown({ options: [] }), others))).toBe('too-few-options')
    expect(
      codeOf(validateDefinition(dropdown({ options: [option('s', 'Small', 'a0')] }), others)),
    ).toBe('too-few-options')
    expect(
      codeOf(
        validateDefinition(
          dropdown({ options: [option('s', 'Small', 'a0'), option('l', 'Large', 'a1', true)] }),
          others,
        ),
      ),
    ).toBe('too-few-options')
  })

  it('refuses two live options with the same label, but not a retired twin', () => {
    const twins = [option('s', 'Small', 'a0'), option('s2', ' small', 'a1')]
    expect(codeOf(validateDefinition(dropdown({ options: twins }), others))).toBe(
      'duplicate-option-label',
    )
    const retiredTwin = [...twins.slice(0, 1), { ...twins[1]!, retired: true }]
    expect(
      codeOf(
        validateDefinition(
          dropdown({ options: [...retiredTwin, option('l', 'Large', 'a2')] }),
          others,
        ),
      ),
    ).toBe('ok')
  })

  it('refuses blank option labels, bad option ids and options on a text attribute', () => {
    expect(
      codeOf(
        validateDefinition(
          dropdown({ options: [option('s', ' ', 'a0'), option('l', 'Large', 'a1')] }),
          others,
        ),
      ),
    ).toBe('invalid-label')
    expect(
      codeOf(
        validateDefinition(
          dropdown({ options: [option('s s', 'Small', 'a0'), option('l', 'Large', 'a1')] }),
          others,
        ),
      ),
    ).toBe('invalid-definition')
    expect(
      codeOf(validateDefinition(text({ options: [option('s', 'Small', 'a0')] }), others)),
    ).toBe('invalid-definition')
  })
})

describe('validateValue', () => {
  const { schema } = workspace()
  const plan = schema.definition('plan')!
  const account = schema.definition('account_id')!

  it('refuses a value for an unknown attribute', () => {
    expect(codeOf(validateValue(undefined, 'x'))).toBe('unknown-attribute')
  })

  it('refuses a value written as the wrong kind of attribute', () => {
    expect(codeOf(validateValue(schema.definition('x_handle'), '@ana', 'custom'))).toBe(
      'wrong-kind',
    )
    expect(codeOf(validateValue(account, 'AC-1', 'platform'))).toBe('wrong-kind')
    expect(codeOf(validateValue(account, 'AC-1', 'custom'))).toBe('ok')
  })

  it('refuses a value of a retired attribute, but lets it be cleared', () => {
    const retired = { ...account, retired: true }
    expect(codeOf(validateValue(retired, 'AC-1'))).toBe('retired-attribute')
    expect(codeOf(validateValue(retired, null))).toBe('ok')
  })

  it('refuses a value that is not text', () => {
    for (const value of [42, true, {}, ['a'], undefined]) {
      expect(codeOf(validateValue(account, value))).toBe('type-mismatch')
      expect(codeOf(validateValue(plan, value))).toBe('type-mismatch')
    }
  })

  it('refuses text longer than the maximum length', () => {
    expect(codeOf(validateValue(account, 'x'.repeat(12)))).toBe('ok')
    expect(codeOf(validateValue(account, 'x'.repeat(13)))).toBe('too-long')
  })

  it('refuses a dropdown value that is not an option', () => {
    const result = validateValue(plan, 'platinum')
    expect(result).toEqual({
      ok: false,
      code: 'not-an-option',
      message: '"platinum" is not an option of Plan',
    })
    // Dropdown values are option ids, not labels.
    expect(codeOf(validateValue(plan, 'Gold'))).toBe('not-an-option')
    expect(codeOf(validateValue(plan, 'gold'))).toBe('ok')
  })

  it('refuses a retired option', () => {
    const retiredGold = {
      ...plan,
      options: plan.options.map((o) => (o.id === 'gold' ? { ...o, retired: true } : o)),
    }
    expect(codeOf(validateValue(retiredGold, 'gold'))).toBe('retired-option')
  })
})

describe('validateSetting', () => {
  const { schema } = workspace()
  const { definitions } = schema.view()

  it('accepts well-typed settings', () => {
    expect(codeOf(validateSetting('vipEnabled', false, definitions))).toBe('ok')
    expect(codeOf(validateSetting('vipTeam', 'vip-desk', definitions))).toBe('ok')
    expect(codeOf(validateSetting('vipTeam', null, definitions))).toBe('ok')
    expect(codeOf(validateSetting('vipPriorityBoost', 3, definitions))).toBe('ok')
    expect(codeOf(validateSetting('matchingAttribute', 'email', definitions))).toBe('ok')
    expect(codeOf(validateSetting('plan', 'enterprise', definitions))).toBe('ok')
  })

  it('refuses ill-typed settings', () => {
    expect(codeOf(validateSetting('vipEnabled', 'yes', definitions))).toBe('invalid-value')
    expect(codeOf(validateSetting('agentsMayEditCrm', 1, definitions))).toBe('invalid-value')
    expect(codeOf(validateSetting('vipTeam', 'a team', definitions))).toBe('invalid-value')
    expect(codeOf(validateSetting('vipPriorityBoost', -1, definitions))).toBe('invalid-value')
    expect(codeOf(validateSetting('vipPriorityBoost', Infinity, definitions))).toBe('invalid-value')
    expect(codeOf(validateSetting('plan', 'platinum', definitions))).toBe('invalid-value')
  })

  it('refuses a matching attribute that does not exist or is retired', () => {
    expect(codeOf(validateSetting('matchingAttribute', 'nope', definitions))).toBe(
      'unknown-attribute',
    )
    const retired = new Map(definitions)
    retired.set('email', { ...definitions.get('email')!, retired: true })
    expect(codeOf(validateSetting('matchingAttribute', 'email', retired))).toBe('retired-attribute')
  })
})
