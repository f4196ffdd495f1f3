import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
} from '@dnd-kit/core'
import type { DragEndEvent } from '@dnd-kit/core'
import {
  SortableContext,
  arrayMove,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from '@dnd-kit/sortable'
import { CSS } from '@dnd-kit/utilities'
import type { ReactNode } from 'react'
import type { AttributeDefinition } from '@cardfile/core'

/**
 * The admin's attribute list, reorderable with the mouse or the keyboard (focus a handle,
 * Space to lift, arrows to move, Space to drop, Escape to cancel), with screen-reader
 * announcements from dnd-kit.
 */
export function SortableAttributes({
  attributes,
  onReorder,
  renderRow,
}: {
  attributes: readonly AttributeDefinition[]
  onReorder: (ids: readonly string[]) => void
  renderRow: (attribute: AttributeDefinition, handle: ReactNode) => ReactNode
}) {
  const sensors = useSensors(
    // A small distance, so a click on a switch in the row is never taken for a drag.
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  )
  const ids = attributes.map((a) => a.id)
  const labelOf = (id: string | number): string =>
    attributes.find((a) => a.id === id)?.label ?? String(id)

  const onDragEnd = ({ active, over }: DragEndEvent): void => {
    if (over === null || active.id === over.id) return
    const from = ids.indexOf(String(active.id))
    const to = ids.indexOf(String(over.id))
    if (from < 0 || to < 0) return
    onReorder(arrayMove(ids, from, to))
  }

  return (
    <DndContext
      sensors={sensors}
      collisionDetection={closestCenter}
      onDragEnd={onDragEnd}
      accessibility={{
        announcements: {
          onDragStart: ({ active }) => `Picked up ${labelOf(active.id)}.`,
          onDragOver: ({ active, over }) =>
            over ? `${labelOf(active.id)} is over ${labelOf(over.id)}.` : undefined,
          onDragEnd: ({ active, over }) =>
            over
              ? `${labelOf(active.id)} was dropped in the place of ${labelOf(over.id)}.`
              : `${labelOf(active.id)} was dropped.`,
          onDragCancel: ({ active }) => `Moving ${labelOf(active.id)} was cancelled.`,
        },
      }}
    >
      <SortableContext items={ids} strategy={verticalListSortingStrategy}>
        <ol className="attribute-list" data-testid="admin-attributes">
          {attributes.map((attribute) => (
            <SortableRow key={attribute.id} attribute={attribute} renderRow={renderRow} />
          ))}
        </ol>
      </SortableContext>
    </DndContext>
  )
}

function SortableRow({
  attribute,
  renderRow,
}: {
  attribute: AttributeDefinition
  renderRow: (attribute: AttributeDefinition, handle: ReactNode) => ReactNode
}) {
  const {
    attributes,
    listeners,
    setNodeRef,
    setActivatorNodeRef,
    transform,
    transition,
    isDragging,
  } = useSortable({ id: attribute.id })
  const handle = (
    <button
      type="button"
      ref={setActivatorNodeRef}
      className="drag-handle"
      aria-label={`Move ${attribute.label}`}
      data-testid="drag-handle"
      {...attributes}
      {...listeners}
    >
      <svg viewBox="0 0 12 18" width="12" height="18" aria-hidden="true">
        {[3, 9, 15].map((y) =>
          [3, 9].map((x) => <circle key={`${x}-${y}`} cx={x} cy={y} r="1.6" />),
        )}
      </svg>
    </button>
  )
  return (
    <li
      ref={setNodeRef}
      className={`attribute-row${isDragging ? ' dragging' : ''}`}
      style={{ transform: CSS.Transform.toString(transform), transition }}
      data-testid="admin-attribute"
      data-attribute-id={attribute.id}
    >
      {renderRow(attribute, handle)}
    </li>
  )
}
