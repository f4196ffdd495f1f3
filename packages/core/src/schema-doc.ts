import type * as Y from 'yjs'
import { keyBetween, keysForReorder, planMove, planReorder, sortByOrder } from './attribute-order'
import { DEFAULT_RULES, isDefaultRules, mergeRules, rulesToJson } from './attribute-rules'
import type { MoveTarget, OrderPlan } from './attribute-order'
import { PLATFORM_ATTRIBUTES } from './channels'
import {
  SETTING_KEYS,
  attributeKey,
  channelVisibilityKey,
  isValidId,
  optionKey,
  parseAttributeKey,
  parseOptionKey,
} from './document-layout'
import type { AttributeProp, SettingKey } from './document-layout'
import { CardfileError, ErrorCodes } from './errors'
import type { CheckResult } from './errors'
import { newId, slugify } from './ids'
import { sameJson } from './same-json'
import { DEFAULT_SETTINGS, readDefinition, readSettings } from './schema-read'
import type {
  AttributeDefinition,
  AttributeRules,
  AttributeType,
  ChannelId,
  DropdownOption,
  Plan,
  WorkspaceSettings,
} from './types'
import { VIP_ATTRIBUTE_ID } from './types'
import { vipActive } from './vip'
import { DEFAULT_MAX_LENGTH, validateDefinition, validateSetting } from './validation'
import { hasOptions } from './value-types'

/** What permission and value checks read from the schema: definitions by id and settings. */
export interface SchemaView {
  readonly definitions: ReadonlyMap<string, AttributeDefinition>
  readonly settings: WorkspaceSettings
}

/** A new dropdown option: a label, and an id when the caller wants to choose it. */
export interface OptionInput {
  readonly id?: string
  readonly label: string
}

/** Input of {@link SchemaDoc.createAttribute}. */
export interface CreateAttributeInput {
  readonly id?: string
  readonly label: string
  readonly type: AttributeType
  /** Dropdown and multi-select options (two or more). */
  readonly options?: readonly OptionInput[]
  /** Required, pattern, min/max, decimals, default, help text (unset ones have no rule). */
  readonly rules?: Partial<AttributeRules>
  /** CRM key; defaults to a slug of the label (or the id when that slug is taken). */
  readonly alias?: string
  readonly maxLength?: number
  readonly crmManaged?: boolean
  readonly lookup?: boolean
  /** Shown on every channel (default) or none. */
  readonly visible?: boolean
}

/** Editable properties of {@link SchemaDoc.updateAttribute}. */
export interface AttributePatch {
  readonly label?: string
  readonly alias?: string
  readonly maxLength?: number
  readonly crmManaged?: boolean
  readonly lookup?: boolean
  /** Rules to change (the others are kept); `null` for a bound, pattern or default removes it. */
  readonly rules?: Partial<AttributeRules>
}

/** Options of {@link SchemaDoc}. */
export interface SchemaDocOptions {
  /** Transaction origin of every mutation (for example to scope a Y.UndoManager). */
  readonly origin?: unknown
}

const throwIfRefused = (result: CheckResult, field?: string): void => {
  if (!result.ok) throw new CardfileError(result.code, result.message, field)
}

interface SchemaSnapshot {
  readonly definitions: readonly AttributeDefinition[]
  readonly byId: ReadonlyMap<string, AttributeDefinition>
  readonly settings: WorkspaceSettings
  readonly view: SchemaView
  readonly visible: Map<ChannelId | '*', readonly AttributeDefinition[]>
}

/**
 * The typed API over a workspace schema document: attribute definitions, their order and the
 * workspace settings. It wraps a Y.Doc it does not own; call {@link SchemaDoc.destroy} when done
 * with the wrapper (the document lives on).
 *
 * Reads are cached until the next transaction that touches the schema, so the same arrays and
 * objects come back between changes (what `useSyncExternalStore` needs). Every mutation
 * validates first, throws a {@link CardfileError} when refused, and otherwise writes in one Yjs
 * transaction. Permissions are not checked here: the server enforces them, UIs ask `canEdit`.
 *
 * @example
 * const schema = new SchemaDoc(doc)
 * const plan = schema.createAttribute({
 *   label: 'Plan',
 *   type: 'dropdown',
 *   options: [{ label: 'Free' }, { label: 'Pro' }],
 * })
 * schema.moveAttribute(plan.id, { before: 'email' })
 * const stop = schema.observe(() => render(schema.visibleDefinitions('whatsapp')))
 */
export class SchemaDoc {
  readonly doc: Y.Doc
  private readonly attributes: Y.Map<unknown>
  private readonly optionsMap: Y.Map<unknown>
  private readonly settingsMap: Y.Map<unknown>
  private readonly origin: unknown
  private snapshot: SchemaSnapshot | null = null
  private readonly listeners = new Set<() => void>()

  constructor(doc: Y.Doc, options: SchemaDocOptions = {}) {
    this.doc = doc
    this.attributes = doc.getMap('attributes')
    this.optionsMap = doc.getMap('options')
    this.settingsMap = doc.getMap('settings')
    this.origin = options.origin ?? null
    doc.on('afterTransaction', this.onTransaction)
  }

  private readonly onTransaction = (transaction: Y.Transaction): void => {
    const ours: readonly unknown[] = [this.attributes, this.optionsMap, this.settingsMap]
    if (![...transaction.changed.keys()].some((type) => ours.includes(type))) return
    // Invalidate before notifying, so listeners read the new state.
    this.snapshot = null
    for (const listener of [...this.listeners]) listener()
  }

  /** Stops tracking the document (listeners are dropped; the document is untouched). */
  destroy(): void {
    this.doc.off('afterTransaction', this.onTransaction)
    this.listeners.clear()
    this.snapshot = null
  }

  /**
   * Calls `listener` once after every transaction that touched the schema (local or remote).
   * Returns the unsubscribe function.
   *
   * @example
   * const stop = schema.observe(() => console.warn('schema changed'))
   */
  observe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  private read(): SchemaSnapshot {
    // Inside an open transaction (a caller batching several edits, or the server's
    // host.transact) the cache may predate writes made in it: the cache is only dropped after
    // the transaction ends, so read through and cache nothing until then.
    if (this.doc._transaction !== null) return this.compute()
    if (this.snapshot) return this.snapshot
    this.snapshot = this.compute()
    return this.snapshot
  }

  private compute(): SchemaSnapshot {
    const attributeIds = new Set<string>()
    for (const key of this.attributes.keys()) {
      const parsed = parseAttributeKey(key)
      if (parsed) attributeIds.add(parsed.attributeId)
    }
    const optionIds = new Map<string, Set<string>>()
    for (const key of this.optionsMap.keys()) {
      const parsed = parseOptionKey(key)
      if (!parsed) continue
      let ids = optionIds.get(parsed.attributeId)
      if (!ids) optionIds.set(parsed.attributeId, (ids = new Set()))
      ids.add(parsed.optionId)
    }
    const attributes = (key: string) => this.attributes.get(key)
    const options = (key: string) => this.optionsMap.get(key)
    const definitions = Object.freeze(
      sortByOrder(
        [...attributeIds].map((id) =>
          readDefinition(id, attributes, options, optionIds.get(id) ?? []),
        ),
      ),
    )
    const byId = new Map(definitions.map((d) => [d.id, d]))
    const settings = readSettings((key) => this.settingsMap.get(key))
    return {
      definitions,
      byId,
      settings,
      view: Object.freeze({ definitions: byId, settings }),
      visible: new Map(),
    }
  }

  /**
   * Every definition, retired ones included, in order.
   *
   * @example
   * schema.definitions().map((d) => d.label)
   */
  definitions(): readonly AttributeDefinition[] {
    return this.read().definitions
  }

  /**
   * One definition by id, or undefined.
   *
   * @example
   * schema.definition('email')?.label // 'Email'
   */
  definition(id: string): AttributeDefinition | undefined {
    return this.read().byId.get(id)
  }

  /**
   * The definitions a panel shows, in order: never retired ones; custom ones when switched on;
   * platform ones that belong to `channel` and are switched on for it (without a channel,
   * platform ones switched on for any of their channels); VIP when switched on in the list and
   * VIP is on for the workspace and its plan.
   *
   * @example
   * schema.visibleDefinitions('whatsapp').map((d) => d.id) // ['phone_number', 'whatsapp_name', 'plan']
   */
  visibleDefinitions(channel?: ChannelId): readonly AttributeDefinition[] {
    const snapshot = this.read()
    const cacheKey = channel ?? '*'
    const cached = snapshot.visible.get(cacheKey)
    if (cached) return cached
    const visible = Object.freeze(
      snapshot.definitions.filter((d) => {
        if (d.retired) return false
        if (d.kind === 'custom') return d.visible
        // VIP: switched on in the list, and VIP on for the workspace and its plan.
        if (d.kind === 'standard') return d.visible && vipActive(snapshot.settings)
        if (channel !== undefined) {
          return d.channels.includes(channel) && d.channelVisibility[channel] !== false
        }
        return d.channels.some((c) => d.channelVisibility[c] !== false)
      }),
    )
    snapshot.visible.set(cacheKey, visible)
    return visible
  }

  /**
   * The workspace settings, defaults filling what was never written.
   *
   * @example
   * schema.settings().vipEnabled // true
   */
  settings(): WorkspaceSettings {
    return this.read().settings
  }

  /**
   * Definitions by id and settings: what `ContactDoc`, `checkWrite` and `authorizeChanges` read.
   *
   * @example
   * contact.setValue('plan', 'pro', actor, schema.view())
   */
  view(): SchemaView {
    return this.read().view
  }

  private transact(fn: () => void): void {
    this.doc.transact(fn, this.origin)
  }

  private require(id: string): AttributeDefinition {
    const def = this.definition(id)
    if (!def) throw new CardfileError(ErrorCodes.UnknownAttribute, `no attribute "${id}"`, id)
    return def
  }

  private check(candidate: AttributeDefinition): void {
    throwIfRefused(validateDefinition(candidate, this.definitions()), candidate.id)
  }

  private setAttr(id: string, prop: AttributeProp, value: unknown): void {
    const key = attributeKey(id, prop)
    if (!sameJson(this.attributes.get(key), value)) this.attributes.set(key, value)
  }

  private writeDefinition(def: AttributeDefinition): void {
    const { id } = def
    this.setAttr(id, 'label', def.label)
    this.setAttr(id, 'kind', def.kind)
    this.setAttr(id, 'type', def.type)
    this.setAttr(id, 'alias', def.alias)
    this.setAttr(id, 'channels', [...def.channels])
    this.setAttr(id, 'visible', def.visible)
    this.setAttr(id, 'crmManaged', def.crmManaged)
    this.setAttr(id, 'lookup', def.lookup)
    this.setAttr(id, 'retired', def.retired)
    this.setAttr(id, 'maxLength', def.maxLength)
    this.setAttr(id, 'order', def.order)
    this.writeRules(id, def.rules)
    for (const [channel, visible] of Object.entries(def.channelVisibility)) {
      const key = channelVisibilityKey(id, channel)
      if (this.attributes.get(key) !== visible) this.attributes.set(key, visible)
    }
    for (const option of def.options) this.writeOption(id, option)
  }

  private writeRules(id: string, rules: AttributeRules): void {
    // Definitions without rules store no key, as before rules existed (older readers and
    // documents see exactly what they always did).
    if (isDefaultRules(rules) && !this.attributes.has(attributeKey(id, 'rules'))) return
    this.setAttr(id, 'rules', rulesToJson(rules))
  }

  private writeOption(attributeId: string, option: DropdownOption): void {
    const set = (prop: 'label' | 'order' | 'retired', value: unknown) => {
      const key = optionKey(attributeId, option.id, prop)
      if (this.optionsMap.get(key) !== value) this.optionsMap.set(key, value)
    }
    set('label', option.label)
    set('order', option.order)
    set('retired', option.retired)
  }

  private lastKey(items: readonly { order: string }[]): string | null {
    // Keys are sorted; a malformed last key (hostile data) must not block appending.
    for (let i = items.length - 1; i >= 0; i--) {
      const order = items[i]!.order
      try {
        keyBetween(order, null)
        return order
      } catch {
        continue
      }
    }
    return null
  }

  /**
   * Creates a custom attribute at the end of the list and returns it. Throws a
   * {@link CardfileError} (`invalid-label`, `duplicate-label`, `too-few-options`,
   * `duplicate-option-label`, `invalid-definition` ...) when the definition is not valid.
   *
   * @example
   * schema.createAttribute({ label: 'Account id', type: 'text', maxLength: 40, lookup: true })
   */
  createAttribute(input: CreateAttributeInput): AttributeDefinition {
    const definitions = this.definitions()
    const label = input.label.trim()
    const id = input.id ?? newId(label, 'attribute')
    if (!isValidId(id)) {
      throw new CardfileError(ErrorCodes.InvalidDefinition, `bad attribute id "${id}"`, id)
    }
    if (this.definition(id)) {
      throw new CardfileError(ErrorCodes.InvalidDefinition, `attribute "${id}" exists`, id)
    }
    const optionInputs = input.options ?? []
    const optionKeys = keysForReorder(optionInputs.length)
    const options = optionInputs.map((o, i) =>
      Object.freeze({
        id: o.id ?? newId(o.label, 'option'),
        label: o.label.trim(),
        order: optionKeys[i]!,
        retired: false,
      }),
    )
    if (new Set(options.map((o) => o.id)).size !== options.length) {
      throw new CardfileError(ErrorCodes.InvalidDefinition, 'two options share an id', id)
    }
    const def: AttributeDefinition = Object.freeze({
      id,
      label,
      kind: 'custom',
      type: input.type,
      alias: input.alias ?? this.defaultAlias(label, id),
      channels: [],
      visible: input.visible ?? true,
      channelVisibility: {},
      crmManaged: input.crmManaged ?? false,
      lookup: input.lookup ?? false,
      retired: false,
      maxLength: input.maxLength ?? DEFAULT_MAX_LENGTH,
      order: keyBetween(this.lastKey(definitions), null),
      options,
      rules: mergeRules(DEFAULT_RULES, input.rules ?? {}),
    })
    this.check(def)
    this.transact(() => this.writeDefinition(def))
    return this.require(id)
  }

  private defaultAlias(label: string, id: string): string {
    const slug = slugify(label)
    const taken = this.definitions().some(
      (d) => !d.retired && d.alias.toLowerCase() === slug.toLowerCase(),
    )
    return slug && !taken ? slug : id
  }

  /**
   * Edits the label, alias, maximum length, CRM flags or rules of an attribute. Rules are
   * checked whole (`invalid-definition` for a minimum above the maximum, a default that breaks
   * the rules, an unsafe pattern ...).
   *
   * @example
   * schema.updateAttribute('plan', { label: 'Plan tier', crmManaged: true })
   * schema.updateAttribute('age', { rules: { min: '18', required: true } })
   */
  updateAttribute(id: string, patch: AttributePatch): void {
    const def = this.require(id)
    const candidate: AttributeDefinition = {
      ...def,
      ...patch,
      label: patch.label === undefined ? def.label : patch.label.trim(),
      rules: patch.rules === undefined ? def.rules : mergeRules(def.rules, patch.rules),
    }
    this.check(candidate)
    this.transact(() => {
      this.setAttr(id, 'label', candidate.label)
      this.setAttr(id, 'alias', candidate.alias)
      this.setAttr(id, 'maxLength', candidate.maxLength)
      this.setAttr(id, 'crmManaged', candidate.crmManaged)
      this.setAttr(id, 'lookup', candidate.lookup)
      this.writeRules(id, candidate.rules)
    })
  }

  /**
   * Rewrites an attribute's definition for a new type (see `convertedDefinition`: the type, its
   * options and the rules that still apply). Only the server does this, after converting every
   * stored value: the change policy refuses a type change from any client (`immutable-field`),
   * because values of the old type would be left behind.
   *
   * @example
   * schema.changeType(convertedDefinition(schema.definition('age')!, 'number'))
   */
  changeType(target: AttributeDefinition): void {
    const def = this.require(target.id)
    this.check({ ...def, type: target.type, rules: target.rules, options: target.options })
    this.transact(() => {
      this.setAttr(def.id, 'type', target.type)
      this.writeRules(def.id, target.rules)
      for (const option of target.options) this.writeOption(def.id, option)
    })
  }

  /**
   * Switches an attribute on or off: a custom or standard one on every channel, a platform one
   * on `channel` (required for platform attributes, and it must be one of theirs).
   *
   * @example
   * schema.setVisible('plan', false)
   * schema.setVisible('phone_number', false, 'sms')
   */
  setVisible(id: string, visible: boolean, channel?: ChannelId): void {
    const def = this.require(id)
    if (def.kind !== 'platform') {
      this.transact(() => this.setAttr(id, 'visible', visible))
      return
    }
    if (channel === undefined || !def.channels.includes(channel)) {
      throw new CardfileError(
        ErrorCodes.InvalidValue,
        `${def.label} is switched per channel: one of ${def.channels.join(', ')}`,
        id,
      )
    }
    const key = channelVisibilityKey(id, channel)
    this.transact(() => {
      if (this.attributes.get(key) !== visible) this.attributes.set(key, visible)
    })
  }

  /**
   * Retires (hides everywhere, keeping values) or restores an attribute.
   *
   * @example
   * schema.retireAttribute('plan')
   * schema.retireAttribute('plan', false) // restore
   */
  retireAttribute(id: string, retired = true): void {
    const def = this.require(id)
    this.check({ ...def, retired })
    this.transact(() => this.setAttr(id, 'retired', retired))
  }

  private writeOrder(plan: OrderPlan, key: (id: string) => string, map: Y.Map<unknown>): void {
    if (plan.size === 0) return
    this.transact(() => {
      for (const [id, order] of plan) map.set(key(id), order)
    })
  }

  /**
   * Moves an attribute just before or after another one.
   *
   * @example
   * schema.moveAttribute('plan', { after: 'email' })
   */
  moveAttribute(id: string, target: MoveTarget): void {
    this.require(id)
    const plan = planMove(this.definitions(), id, target)
    this.writeOrder(plan, (d) => attributeKey(d, 'order'), this.attributes)
  }

  /**
   * Puts attributes in the given order (what a drag-and-drop list hands back). Attributes not
   * listed keep their places.
   *
   * @example
   * schema.reorder(['email', 'plan', 'phone_number'])
   */
  reorder(ids: readonly string[]): void {
    const plan = planReorder(this.definitions(), ids)
    this.writeOrder(plan, (d) => attributeKey(d, 'order'), this.attributes)
  }

  private requireDropdown(attributeId: string): AttributeDefinition {
    const def = this.require(attributeId)
    if (!hasOptions(def.type)) {
      throw new CardfileError(
        ErrorCodes.InvalidDefinition,
        `${def.label} is a ${def.type} attribute and has no options`,
        attributeId,
      )
    }
    return def
  }

  private requireOption(def: AttributeDefinition, optionId: string): DropdownOption {
    const option = def.options.find((o) => o.id === optionId)
    if (!option) {
      throw new CardfileError(
        ErrorCodes.NotAnOption,
        `"${optionId}" is not an option of ${def.label}`,
        def.id,
      )
    }
    return option
  }

  private changeOption(def: AttributeDefinition, option: DropdownOption): void {
    const exists = def.options.some((o) => o.id === option.id)
    const options = exists
      ? def.options.map((o) => (o.id === option.id ? option : o))
      : [...def.options, option]
    this.check({ ...def, options })
    this.transact(() => this.writeOption(def.id, option))
  }

  /**
   * Adds an option at the end of a dropdown and returns it.
   *
   * @example
   * const gold = schema.addOption('plan', { label: 'Gold' })
   */
  addOption(attributeId: string, input: OptionInput): DropdownOption {
    const def = this.requireDropdown(attributeId)
    const id = input.id ?? newId(input.label, 'option')
    if (!isValidId(id) || def.options.some((o) => o.id === id)) {
      throw new CardfileError(ErrorCodes.InvalidDefinition, `bad or taken option id "${id}"`)
    }
    const option: DropdownOption = Object.freeze({
      id,
      label: input.label.trim(),
      order: keyBetween(this.lastKey(def.options), null),
      retired: false,
    })
    this.changeOption(def, option)
    return option
  }

  /**
   * Renames an option (values keep pointing at it by id).
   *
   * @example
   * schema.renameOption('plan', 'gold', 'Gold (legacy)')
   */
  renameOption(attributeId: string, optionId: string, label: string): void {
    const def = this.requireDropdown(attributeId)
    const option = this.requireOption(def, optionId)
    this.changeOption(def, { ...option, label: label.trim() })
  }

  /**
   * Moves an option just before or after another option of the same dropdown.
   *
   * @example
   * schema.moveOption('plan', 'gold', { before: 'free' })
   */
  moveOption(attributeId: string, optionId: string, target: MoveTarget): void {
    const def = this.requireDropdown(attributeId)
    this.requireOption(def, optionId)
    const plan = planMove(def.options, optionId, target)
    this.writeOrder(plan, (o) => optionKey(attributeId, o, 'order'), this.optionsMap)
  }

  /**
   * Retires (or restores) an option. Contacts holding it keep it, shown as retired; it can no
   * longer be chosen. A dropdown keeps at least two live options (`too-few-options`).
   *
   * @example
   * schema.retireOption('plan', 'gold')
   */
  retireOption(attributeId: string, optionId: string, retired = true): void {
    const def = this.requireDropdown(attributeId)
    const option = this.requireOption(def, optionId)
    this.changeOption(def, { ...option, retired })
  }

  /**
   * Changes workspace settings. Each value is checked first (`invalid-value`,
   * `unknown-attribute` for a matching attribute that does not exist, `unknown-field`).
   *
   * @example
   * schema.updateSettings({ vipEnabled: false, matchingAttribute: 'email' })
   */
  updateSettings(patch: Partial<WorkspaceSettings>): void {
    const entries = Object.entries(patch) as [string, unknown][]
    const { definitions } = this.view()
    for (const [key, value] of entries) {
      if (!(SETTING_KEYS as readonly string[]).includes(key)) {
        throw new CardfileError(ErrorCodes.UnknownField, `no setting "${key}"`, key)
      }
      throwIfRefused(validateSetting(key as SettingKey, value, definitions), key)
    }
    this.transact(() => {
      for (const [key, value] of entries) {
        if (!sameJson(this.settingsMap.get(key), value)) this.settingsMap.set(key, value)
      }
    })
  }
}

/** Options of {@link seedWorkspace}. */
export interface SeedOptions {
  /** The workspace's plan; written when given (and `advanced` when the workspace has none). */
  readonly plan?: Plan
}

/**
 * Writes the VIP standard attribute when the schema lacks it: at the end of the list, as a new
 * attribute goes (an admin moves it like any other), switched on, labelled `VIP` with alias `vip` (or `VIP contact` and
 * `vip_contact` when a custom attribute already has those). Resolves whether it wrote anything;
 * running it again changes nothing. Servers run it when they load a workspace's schema, so
 * workspaces created before VIP was an attribute get it too.
 *
 * @example
 * ensureVipDefinition(schemaDoc) // true the first time, then false
 */
export function ensureVipDefinition(doc: Y.Doc): boolean {
  const attributes = doc.getMap('attributes')
  if (attributes.has(attributeKey(VIP_ATTRIBUTE_ID, 'kind'))) return false
  const schema = new SchemaDoc(doc)
  let order: string
  let label = 'VIP'
  let alias = 'vip'
  try {
    const definitions = schema.definitions()
    const live = definitions.filter((d) => !d.retired)
    if (live.some((d) => d.label.trim().toLowerCase() === 'vip')) label = 'VIP contact'
    if (live.some((d) => d.alias.toLowerCase() === 'vip')) alias = 'vip_contact'
    order = missingKeys(definitions.at(-1)?.order ?? null, 1)[0]!
  } finally {
    schema.destroy()
  }
  const set = (prop: AttributeProp, value: unknown) =>
    attributes.set(attributeKey(VIP_ATTRIBUTE_ID, prop), value)
  doc.transact(() => {
    set('label', label)
    set('kind', 'standard')
    set('type', 'flag')
    set('alias', alias)
    set('channels', [])
    set('visible', true)
    set('crmManaged', false)
    set('lookup', false)
    set('retired', false)
    set('maxLength', DEFAULT_MAX_LENGTH)
    set('order', order)
  })
  return true
}

/**
 * Writes every platform attribute of the channel catalogue that the schema lacks, the VIP
 * standard attribute when it lacks it, and every setting it lacks, in one transaction. Running
 * it again changes nothing (unless `plan` differs).
 *
 * @example
 * const doc = new Y.Doc()
 * seedWorkspace(doc, { plan: 'enterprise' })
 */
export function seedWorkspace(doc: Y.Doc, options: SeedOptions = {}): void {
  const schema = new SchemaDoc(doc)
  try {
    const definitions = schema.definitions()
    const missing = PLATFORM_ATTRIBUTES.filter((a) => !schema.definition(a.id))
    const after = definitions.length > 0 ? definitions[definitions.length - 1]!.order : null
    const keys = missingKeys(after, missing.length)
    const settings = doc.getMap('settings')
    doc.transact(() => {
      missing.forEach((attribute, i) => {
        const attributes = doc.getMap('attributes')
        const id = attribute.id
        const set = (prop: AttributeProp, value: unknown) =>
          attributes.set(attributeKey(id, prop), value)
        set('label', attribute.label)
        set('kind', 'platform')
        set('type', 'text')
        set('alias', attribute.alias)
        set('channels', [...attribute.channels])
        set('visible', true)
        set('crmManaged', false)
        set('lookup', false)
        set('retired', false)
        set('maxLength', DEFAULT_MAX_LENGTH)
        set('order', keys[i]!)
        for (const channel of attribute.channels) {
          attributes.set(channelVisibilityKey(id, channel), true)
        }
      })
      for (const key of SETTING_KEYS) {
        if (key === 'plan') continue
        if (!settings.has(key)) settings.set(key, DEFAULT_SETTINGS[key])
      }
      const plan = options.plan ?? (settings.has('plan') ? undefined : DEFAULT_SETTINGS.plan)
      if (plan !== undefined && settings.get('plan') !== plan) settings.set('plan', plan)
      ensureVipDefinition(doc)
    })
  } finally {
    schema.destroy()
  }
}

function missingKeys(after: string | null, n: number): string[] {
  if (n === 0) return []
  try {
    const keys: string[] = []
    let previous = after
    for (let i = 0; i < n; i++) keys.push((previous = keyBetween(previous, null)))
    return keys
  } catch {
    // A malformed last key (never written by Cardfile): start a fresh sequence instead.
    return keysForReorder(n)
  }
}
