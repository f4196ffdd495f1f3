import { ErrorCodes, NON_JSON_VALUE, ROOT_MAPS, authorizeChanges, fieldRefOf } from '@cardfile/core'
import type {
  Actor,
  DocName,
  FieldChange,
  PolicyContext,
  Refusal,
  SchemaView,
} from '@cardfile/core'
import * as Y from 'yjs'
import { dropUnintegrable, purgeRefusedCreations } from './refused-residue'
import type { RefusedPlace } from './refused-residue'
import { collectTransactionChanges, itemValue } from './transaction-changes'
import type { StructuralViolation } from './transaction-changes'

/** Transaction origin of the gate's compensating writes. */
export const COMPENSATION_ORIGIN = Symbol('cardfile.compensation')

/** The refusal of an update, or part of one, that builds on structs the server does not have. */
const UNINTEGRABLE: Refusal = {
  map: '',
  key: '',
  code: ErrorCodes.MissingDependency,
  message: 'the update builds on changes the server does not have; it was dropped',
}

/** What the gate decided about one update. */
export interface GateVerdict {
  /** What was refused and undone (empty: everything the update changed stands). */
  readonly refusals: readonly Refusal[]
  /**
   * When the gate compensated (refusals, or junk purged): the document's change since before
   * the update, compensation included, to persist and relay instead of the update's own
   * events. Null when the update stands as it came.
   */
  readonly cleaned: Uint8Array | null
  /** The update failed to decode part-way; what Yjs integrated before was judged all the same. */
  readonly malformed: unknown
  /** The changes could not be read, so nothing could be judged (the caller must fail closed). */
  readonly failure: unknown
}

/** The update being judged, filled in by the document's `afterTransaction`. */
interface Step {
  readonly origin: unknown
  changes: FieldChange[]
  violations: StructuralViolation[]
  vanished: RefusedPlace[]
  beforeState: Map<number, number> | null
  failure: unknown
}

/** What a gate needs from the document around it. */
export interface GateHost {
  /** The workspace's schema as it stands when a change is judged. */
  gateSchema(): SchemaView
  /** Told when the policy itself threw (everything is refused then). */
  gatePolicyError(error: unknown): void
  /** Another contact's custom values, for rules spanning documents (`PolicyContext.contactValues`). */
  gateContactValues?(contactId: string): ((attributeId: string) => unknown) | null | undefined
}

/**
 * The server's authority over one document, with no sockets: applies an update from an actor,
 * reads what it changed while Yjs still knows the old values, checks every change with core's
 * `authorizeChanges`, and compensates what is refused in one server transaction: refused keys
 * get their previous value back, structural violations are deleted, what Yjs cannot integrate
 * is dropped, and keys and roots the schema does not bound leave no item behind. The caller
 * persists and relays either the update's own events (nothing refused) or `cleaned`.
 *
 * The document's `afterTransaction` must call {@link collect} (a listener per gate would cost
 * every loaded document a closure).
 *
 * @example
 * const gate = new ChangeGate(doc, parseDocName('demo/contact/c1')!, {
 *   gateSchema: () => view,
 *   gatePolicyError: (error) => console.error(error),
 * })
 * doc.on('afterTransaction', (tr) => gate.collect(tr))
 * const verdict = gate.admit(update, agent, connection)
 * if (verdict.cleaned !== null) relay(verdict.cleaned)
 */
export class ChangeGate {
  private readonly allowedRoots: readonly string[]
  private step: Step | null = null

  constructor(
    private readonly doc: Y.Doc,
    private readonly name: DocName,
    private readonly host: GateHost,
  ) {
    this.allowedRoots = ROOT_MAPS[name.kind]
  }

  /** Reads what the update being judged changed (from the document's `afterTransaction`). */
  collect(tr: Y.Transaction): void {
    const step = this.step
    if (step === null || tr.origin !== step.origin) return
    try {
      const collected = collectTransactionChanges(tr, this.name.kind)
      step.changes.push(...collected.changes)
      step.violations.push(...collected.violations)
      step.vanished.push(...collected.vanished)
      step.beforeState ??= new Map(tr.beforeState)
    } catch (error) {
      step.failure = error
    }
  }

  /**
   * Applies `update` as `actor` with transaction origin `origin` and judges it (see the class).
   * An actor of null (not authenticated) has every change refused.
   */
  admit(update: Uint8Array, actor: Actor | null, origin: unknown): GateVerdict {
    const doc = this.doc
    const step: Step = {
      origin,
      changes: [],
      violations: [],
      vanished: [],
      beforeState: null,
      failure: null,
    }
    this.step = step
    let malformed: unknown = null
    try {
      Y.applyUpdate(doc, update, origin)
    } catch (error) {
      malformed = error
    } finally {
      this.step = null
    }
    // What Yjs could not integrate is never kept: nothing pending outlives this call.
    const unintegrable = dropUnintegrable(doc)
    if (step.failure !== null) {
      return { refusals: [], cleaned: null, malformed, failure: step.failure }
    }
    const refusals = this.authorize(step.changes, actor)
    const structural = step.violations.map((v): Refusal => ({
      map: v.map,
      key: v.key,
      code: v.code,
      message: v.message,
    }))
    if (unintegrable) structural.push(UNINTEGRABLE)
    const allRefusals = [...refusals, ...structural]
    const bounded = (map: string, key: string): boolean => this.schemaBounds(map, key, actor)
    // Junk written and deleted within the update changes nothing, but would keep its names.
    const vanishedJunk = step.vanished.filter((v) =>
      v.key === null ? !this.allowedRoots.includes(v.map) : !bounded(v.map, v.key),
    )
    if (allRefusals.length === 0 && vanishedJunk.length === 0) {
      return { refusals: [], cleaned: null, malformed, failure: null }
    }
    this.compensate(step.changes, refusals, step.violations)
    const before = step.beforeState ?? new Map<number, number>()
    // Keys and roots the refused change created leave no item, so no name the sender chose.
    purgeRefusedCreations(
      doc,
      before,
      [...allRefusals, ...vanishedJunk],
      this.allowedRoots,
      bounded,
    )
    // Re-encoded from the store rather than merged from the update: compensation has
    // garbage-collected the refused content, so neither storage nor other clients get it.
    const cleaned = Y.encodeStateAsUpdate(doc, Y.encodeStateVector(before))
    return { refusals: allRefusals, cleaned, malformed, failure: null }
  }

  /**
   * Whether the schema bounds the name of key `key` of root map `map`: the layout has it and,
   * for an attribute's keys, the attribute is defined (or `actor` may define it). Refused keys
   * outside these bounds are purged, so that no sender can store names of its own choosing.
   */
  private schemaBounds(map: string, key: string, actor: Actor | null): boolean {
    const field = fieldRefOf(this.name.kind, map, key)
    if (field === null) return false
    switch (field.kind) {
      case 'custom-value':
      case 'platform-value':
        return this.host.gateSchema().definitions.has(field.attributeId)
      case 'attribute':
      case 'channel-visibility':
      case 'option':
        return (
          this.host.gateSchema().definitions.has(field.attributeId) ||
          actor?.role === 'admin' ||
          actor?.role === 'system'
        )
      default:
        return true
    }
  }

  /** The changes `actor` may not make; all of them when they cannot be checked. */
  private authorize(changes: readonly FieldChange[], actor: Actor | null): Refusal[] {
    if (changes.length === 0) return []
    const refuseAll = (message: string): Refusal[] =>
      changes.map((c) => ({ map: c.map, key: c.key, code: ErrorCodes.Internal, message }))
    if (actor === null) return refuseAll('the sender is not authenticated')
    const view = this.host.gateSchema()
    const doc = this.doc
    const read = (map: string, key: string): unknown =>
      this.allowedRoots.includes(map) ? itemValue(doc.getMap(map)._map.get(key)) : undefined
    const ctx: PolicyContext = {
      actor,
      doc: this.name,
      definitions: view.definitions,
      settings: view.settings,
      read,
      now: Date.now(),
      contactValues: (contactId) => this.host.gateContactValues?.(contactId),
    }
    try {
      return authorizeChanges(changes, ctx)
    } catch (error) {
      // A bug in the policy must not let a change through: refuse everything.
      this.host.gatePolicyError(error)
      return refuseAll('the change could not be checked')
    }
  }

  /** One server transaction restoring every refused key and deleting structural violations. */
  private compensate(
    changes: readonly FieldChange[],
    refusals: readonly Refusal[],
    violations: readonly StructuralViolation[],
  ): void {
    const doc = this.doc
    const byKey = new Map(changes.map((c) => [`${c.map}\u0000${c.key}`, c]))
    doc.transact((tr) => {
      for (const refusal of refusals) {
        const change = byKey.get(`${refusal.map}\u0000${refusal.key}`)
        if (change === undefined || !this.allowedRoots.includes(change.map)) continue
        const map = doc.getMap(change.map)
        const old = change.oldValue
        if (old === undefined || old === NON_JSON_VALUE) {
          if (map._map.has(change.key)) map.delete(change.key)
        } else {
          map.set(change.key, old)
        }
      }
      for (const violation of violations) {
        for (const item of violation.items) if (!item.deleted) item.delete(tr)
      }
    }, COMPENSATION_ORIGIN)
  }
}
