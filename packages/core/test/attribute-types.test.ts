import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RULES,
  SchemaDoc,
  authorizeChanges,
  checkPattern,
  convertValue,
  convertedDefinition,
  formatValue,
  missingRequired,
  normaliseInput,
  readRules,
  validateDefinition,
  validateValue,
} from '../src/index'
import type {
  Actor,
  AttributeDefinition,
  AttributeRules,
  AttributeType,
  CheckResult,
  FieldChange,
  PolicyContext,
} from '../src/index'
import { NOW, agent, customDefinition, policy, system, workspace } from './helpers'

const codeOf = (r: CheckResult): string => (r.ok ? 'ok' : r.code)

const def = (
  type: AttributeType,
  rules: Partial<AttributeRules> = {},
  patch: Partial<AttributeDefinition> = {},
): AttributeDefinition =>
  customDefinition(type, {
    options:
      type === 'dropdown' || type === 'multiselect'
        ? [
            { id: 'red', label: 'Red', order: 'a0', retired: false },
            { id: 'blue', label: 'Blue', order: 'a1', retired: false },
            { id: 'old', label: 'Old', order: 'a2', retired: true },
          ]
        : [],
    rules: { ...DEFAULT_RULES, ...rules },
    ...patch,
  })

describe('number values', () => {
  const number = def('number')
  it('accepts numbers in their stored form', () => {
    for (const v of ['0', '42', '-7', '12.5', '-0.001', '999999999999999']) {
      expect(codeOf(validateValue(number, v)), v).toBe('ok')
    }
  })
  it('refuses NaN, Infinity, exponents, huge numbers and non-canonical spellings', () => {
    for (const v of [
      'NaN',
      'Infinity',
      '-Infinity',
      '1e5',
      '1000000000000000',
      '9'.repeat(400),
      '012',
      '1.50',
      '+1',
      '-0',
      ' 1',
      '1,5',
      '',
      '１２',
    ]) {
      expect(codeOf(validateValue(number, v)), v).toBe('type-mismatch')
    }
  })
  it('refuses a JSON number, boolean or array instead of the stored text', () => {
    for (const v of [12, Number.NaN, Number.POSITIVE_INFINITY, true, ['1'], { value: '1' }]) {
      expect(codeOf(validateValue(number, v))).toBe('type-mismatch')
    }
  })
  it('enforces min, max and decimals', () => {
    const bounded = def('number', { min: '-10', max: '100.5', decimals: 1 })
    expect(codeOf(validateValue(bounded, '100.5'))).toBe('ok')
    expect(codeOf(validateValue(bounded, '-10'))).toBe('ok')
    expect(codeOf(validateValue(bounded, '100.6'))).toBe('out-of-range')
    expect(codeOf(validateValue(bounded, '-10.1'))).toBe('out-of-range')
    expect(codeOf(validateValue(bounded, '1.25'))).toBe('out-of-range')
    const whole = def('number', { decimals: 0 })
    const result = validateValue(whole, '2.5')
    expect(result.ok ? '' : result.message).toBe('Field is a whole number')
  })
  it('normalises what a person types', () => {
    expect(normaliseInput('number', ' +12,50 ')).toBe('12.5')
    expect(normaliseInput('number', '-0.0')).toBe('0')
    expect(normaliseInput('number', '007')).toBe('7')
    expect(normaliseInput('number', '-,5')).toBe('-0.5')
    expect(normaliseInput('number', '.')).toBeNull()
    expect(normaliseInput('number', '-')).toBeNull()
    expect(normaliseInput('number', '1e3')).toBeNull()
    expect(normaliseInput('number', 'Infinity')).toBeNull()
    expect(normaliseInput('number', '1'.repeat(20))).toBeNull()
  })
})

describe('date values', () => {
  const date = def('date', { min: '2020-01-01', max: '2030-12-31' })
  it('accepts real calendar dates within the bounds', () => {
    expect(codeOf(validateValue(date, '2024-02-29'))).toBe('ok')
    expect(codeOf(validateValue(date, '2020-01-01'))).toBe('ok')
  })
  it('refuses invalid dates and other spellings', () => {
    for (const v of [
      '2023-02-29',
      '2024-13-01',
      '2024-04-31',
      '2024-00-10',
      '24-01-01',
      '2024-1-1',
      '2024-01-01T00:00:00Z',
      'Invalid Date',
      '0000-01-01',
    ]) {
      expect(codeOf(validateValue(def('date'), v)), v).toBe('type-mismatch')
    }
    expect(codeOf(validateValue(def('date'), '1900-02-29'))).toBe('type-mismatch')
    expect(codeOf(validateValue(def('date'), '2000-02-29'))).toBe('ok')
  })
  it('refuses dates outside min and max', () => {
    expect(codeOf(validateValue(date, '2019-12-31'))).toBe('out-of-range')
    expect(codeOf(validateValue(date, '2031-01-01'))).toBe('out-of-range')
  })
})

describe('checkbox, URL, email and phone values', () => {
  it('accepts only true and false for a checkbox', () => {
    expect(codeOf(validateValue(def('checkbox'), 'true'))).toBe('ok')
    expect(codeOf(validateValue(def('checkbox'), 'false'))).toBe('ok')
    for (const v of ['yes', 'TRUE', '1', '']) {
      expect(codeOf(validateValue(def('checkbox'), v))).toBe('type-mismatch')
    }
    expect(normaliseInput('checkbox', 'Yes')).toBe('true')
    expect(formatValue(def('checkbox'), 'false')).toBe('No')
  })
  it('accepts http and https URLs only', () => {
    const url = def('url')
    expect(codeOf(validateValue(url, 'https://example.com/a?b=c'))).toBe('ok')
    expect(codeOf(validateValue(url, 'https://exämple.com/ü'))).toBe('ok')
    for (const v of [
      'javascript:alert(1)',
      'ftp://example.com',
      'example.com',
      'https://exa mple.com',
      `https://example.com/${'a'.repeat(2000)}`,
    ]) {
      expect(codeOf(validateValue(url, v)), v).toBe('type-mismatch')
    }
  })
  it('accepts email addresses, unicode included', () => {
    const email = def('email')
    expect(codeOf(validateValue(email, 'ana@example.com'))).toBe('ok')
    expect(codeOf(validateValue(email, 'josé@correo.españa'))).toBe('ok')
    for (const v of [
      'ana',
      'ana@',
      '@x.com',
      'a b@x.com',
      'a@b@c.com',
      'a@localhost',
      'a@x..com',
    ]) {
      expect(codeOf(validateValue(email, v)), v).toBe('type-mismatch')
    }
    expect(codeOf(validateValue(email, `${'a'.repeat(250)}@x.com`))).toBe('type-mismatch')
  })
  it('stores phones as digits with an optional plus', () => {
    const phone = def('phone')
    expect(codeOf(validateValue(phone, '+14155550100'))).toBe('ok')
    expect(codeOf(validateValue(phone, '+1 415 555 0100'))).toBe('type-mismatch')
    expect(codeOf(validateValue(phone, '+1234567890123456'))).toBe('type-mismatch')
    expect(normaliseInput('phone', '+1 (415) 555-0100')).toBe('+14155550100')
    expect(normaliseInput('phone', 'call me')).toBeNull()
  })
})

describe('multi-select values', () => {
  const colours = def('multiselect')
  it('accepts live options, each once', () => {
    expect(codeOf(validateValue(colours, 'red'))).toBe('ok')
    expect(codeOf(validateValue(colours, 'blue,red'))).toBe('ok')
    expect(formatValue(colours, 'blue,red')).toBe('Blue, Red')
  })
  it('refuses duplicates, unknown and retired options and empty lists', () => {
    expect(codeOf(validateValue(colours, 'red,red'))).toBe('invalid-value')
    expect(codeOf(validateValue(colours, 'red,green'))).toBe('not-an-option')
    expect(codeOf(validateValue(colours, 'Red'))).toBe('not-an-option')
    expect(codeOf(validateValue(colours, 'red,old'))).toBe('retired-option')
    expect(codeOf(validateValue(colours, ''))).toBe('type-mismatch')
    expect(codeOf(validateValue(colours, 'red,'))).toBe('not-an-option')
    expect(codeOf(validateValue(colours, Array(101).fill('red').join(',')))).toBe('too-long')
  })
})

describe('text and long text values', () => {
  it('bounds long text by its maxLength and counts unicode by code units', () => {
    const notes = def('longtext', {}, { maxLength: 5000 })
    expect(codeOf(validateValue(notes, 'é'.repeat(5000)))).toBe('ok')
    expect(codeOf(validateValue(notes, 'x'.repeat(5001)))).toBe('too-long')
    expect(codeOf(validateValue(notes, 42))).toBe('type-mismatch')
  })
  it('matches text against its pattern', () => {
    const order = def('text', { pattern: '^[A-Z]{2}-[0-9]{4}$', help: 'like AB-1234' })
    expect(codeOf(validateValue(order, 'AB-1234'))).toBe('ok')
    const refused = validateValue(order, 'ab-1234')
    expect(codeOf(refused)).toBe('pattern-mismatch')
    expect(refused.ok ? '' : refused.message).toContain('like AB-1234')
    expect(codeOf(validateValue(order, 'A'.repeat(300)))).toBe('too-long')
  })
  it('keeps text without rules exactly as before', () => {
    expect(codeOf(validateValue(def('text'), ''))).toBe('ok')
    expect(codeOf(validateValue(def('text'), '🙂 anything'))).toBe('ok')
  })
})

describe('patterns', () => {
  it('refuses patterns that do not compile, are too long or could backtrack for ever', () => {
    expect(checkPattern('^[a-z]+$').ok).toBe(true)
    expect(checkPattern('^(foo|bar)-[0-9]{2,4}$').ok).toBe(true)
    expect(checkPattern('([').ok).toBe(false)
    expect(checkPattern('x'.repeat(201)).ok).toBe(false)
    expect(checkPattern('').ok).toBe(false)
    for (const p of ['(a+)+$', '(a*)*', '(a|aa)+$', '(x{1,3}){2,}', '(a)\\1', '((a+))+']) {
      expect(checkPattern(p).ok, p).toBe(false)
    }
  })
  it('matches a long hostile value quickly', () => {
    const order = def('text', { pattern: '^[a-z]+[0-9]*[a-z]*$' })
    const started = performance.now()
    expect(codeOf(validateValue(order, `${'a'.repeat(255)}!`))).toBe('pattern-mismatch')
    expect(performance.now() - started).toBeLessThan(100)
  })
})

describe('rules of a definition', () => {
  const others: AttributeDefinition[] = []
  it('refuses a minimum above the maximum, bounds in the wrong form and rules of another type', () => {
    expect(codeOf(validateDefinition(def('number', { min: '10', max: '2' }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(def('date', { min: '2024-31-01' }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(def('number', { pattern: '^1$' }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(def('text', { min: '1' }), others))).toBe('invalid-definition')
    expect(codeOf(validateDefinition(def('date', { decimals: 2 }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(def('text', { pattern: '(a+)+' }), others))).toBe(
      'invalid-definition',
    )
  })
  it('refuses a default that breaks the rules and accepts one that keeps them', () => {
    expect(
      codeOf(validateDefinition(def('number', { min: '1', max: '5', default: '9' }), others)),
    ).toBe('invalid-definition')
    expect(codeOf(validateDefinition(def('multiselect', { default: 'green' }), others))).toBe(
      'invalid-definition',
    )
    expect(codeOf(validateDefinition(def('number', { min: '1', default: '3' }), others))).toBe('ok')
  })
  it('refuses options on types without them and too few on a multi-select', () => {
    const withOptions = { ...def('number'), options: def('dropdown').options }
    expect(codeOf(validateDefinition(withOptions, others))).toBe('invalid-definition')
    const one = { ...def('multiselect'), options: def('multiselect').options.slice(0, 1) }
    expect(codeOf(validateDefinition(one, others))).toBe('too-few-options')
  })
  it('reads malformed stored rules as no rule', () => {
    expect(readRules({ min: 5 })).toBe(DEFAULT_RULES)
    expect(readRules('x')).toBe(DEFAULT_RULES)
    expect(readRules({ required: true, help: 'h' })).toMatchObject({ required: true, help: 'h' })
  })
})

describe('required attributes', () => {
  it('lists required live custom attributes without a value or a default', () => {
    const a = def('text', { required: true }, { id: 'a', label: 'A' })
    const b = def('number', { required: true, default: '1' }, { id: 'b', label: 'B' })
    const c = def('date', { required: true }, { id: 'c', label: 'C', retired: true })
    const d = def('checkbox', { required: true }, { id: 'd', label: 'D' })
    const values: Record<string, string> = { d: 'false' }
    expect(missingRequired([a, b, c, d], (id) => values[id]).map((x) => x.id)).toEqual(['a'])
    values.a = ''
    expect(missingRequired([a], (id) => values[id])).toHaveLength(1)
  })
})

describe('SchemaDoc with types and rules', () => {
  it('creates a number attribute with rules and stores no rules key for one without', () => {
    const doc = new Y.Doc()
    const schema = new SchemaDoc(doc)
    const age = schema.createAttribute({
      label: 'Age',
      type: 'number',
      rules: { min: '0', max: '130', decimals: 0, required: true, help: 'In years' },
    })
    expect(age.rules).toMatchObject({ min: '0', max: '130', decimals: 0, required: true })
    const nick = schema.createAttribute({ label: 'Nickname', type: 'text' })
    expect(doc.getMap('attributes').has(`${nick.id}:rules`)).toBe(false)
    expect(() => schema.updateAttribute(age.id, { rules: { min: '200' } })).toThrow(/minimum/)
    schema.updateAttribute(age.id, { rules: { max: null } })
    expect(schema.definition(age.id)?.rules.max).toBeNull()
  })
})

describe('type conversion', () => {
  it('converts text to number and reports what does not convert', () => {
    const from = def('text')
    const to = convertedDefinition(from, 'number')
    expect(convertValue(from, to, ' 42 ')).toEqual({ ok: true, value: '42' })
    expect(convertValue(from, to, 'forty').ok).toBe(false)
  })
  it('converts a dropdown to a multi-select and labels to options', () => {
    const from = def('dropdown')
    const to = convertedDefinition(from, 'multiselect')
    expect(convertValue(from, to, 'red')).toEqual({ ok: true, value: 'red' })
    const text = def('text')
    const multi = convertedDefinition(text, 'multiselect', def('multiselect').options)
    expect(convertValue(text, multi, 'Red, blue')).toEqual({ ok: true, value: 'red,blue' })
    expect(convertValue(text, multi, 'Red, Green').ok).toBe(false)
  })
  it('converts anything to text through its display form', () => {
    expect(convertValue(def('checkbox'), def('text'), 'true')).toEqual({ ok: true, value: 'Yes' })
    expect(convertValue(def('multiselect'), def('longtext'), 'red,blue')).toEqual({
      ok: true,
      value: 'Red, Blue',
    })
  })
})

describe('resolving a conversation with required attributes', () => {
  const resolve = (
    actor: Actor,
    required: boolean,
    contactValues?: PolicyContext['contactValues'],
  ): string[] => {
    const { schema } = workspace()
    if (required) schema.updateAttribute('account_id', { rules: { required: true } })
    const change: FieldChange = {
      map: 'meta',
      key: 'status',
      oldValue: 'new',
      newValue: 'resolved',
    }
    const ctx: PolicyContext = {
      ...policy(actor, 'demo/conversation/v1', schema.view(), (map, key) =>
        map === 'meta' && key === 'contactId' ? 'c1' : undefined,
      ),
      ...(contactValues === undefined ? {} : { contactValues }),
    }
    return authorizeChanges([change], ctx).map((r) => `${r.code}: ${r.message}`)
  }
  const holding = (values: Record<string, unknown>) => () => (id: string) => values[id]
  const filled = { value: 'AC-1', by: { role: 'agent', userId: 'alan', at: NOW } }

  it('is refused while the contact lacks a required value, naming it', () => {
    expect(resolve(agent, true, holding({}))).toEqual([
      'required-missing: fill in Account id before resolving the conversation',
    ])
    expect(resolve(agent, true, holding({ account_id: { ...filled, value: '' } }))).toHaveLength(1)
  })
  it('goes through once the value is there, or when nothing is required', () => {
    expect(resolve(agent, true, holding({ account_id: filled }))).toEqual([])
    expect(resolve(agent, false)).toEqual([])
  })
  it('asks for a retry while the contact is not at hand, and requires nothing of an erased one', () => {
    expect(resolve(agent, true, () => undefined)[0]).toMatch(/^unavailable/)
    expect(resolve(agent, true)[0]).toMatch(/^unavailable/)
    expect(resolve(agent, true, () => null)).toEqual([])
  })
  it('does not hold the system to it', () => {
    expect(resolve(system, true, holding({}))).toEqual([])
  })
})

describe('rules given with undefined keys', () => {
  it('leaves a rule given as undefined as it was, and stores no undefined', () => {
    const doc = new Y.Doc()
    const schema = new SchemaDoc(doc)
    const age = schema.createAttribute({
      label: 'Age',
      type: 'number',
      rules: { min: '1', max: undefined },
    })
    schema.updateAttribute(age.id, { rules: { min: undefined, required: true } })
    expect(schema.definition(age.id)?.rules).toMatchObject({ min: '1', max: null, required: true })
    expect(doc.getMap('attributes').get(`${age.id}:rules`)).toEqual({ min: '1', required: true })
  })
})
