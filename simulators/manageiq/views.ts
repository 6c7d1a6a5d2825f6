/**
 * The shapes ManageIQ renders for VMs, instances and snapshots: their attributes, the `actions` a
 * collection or resource offers (`[{name, method, href}]`, method lower-case, GET actions left out
 * as ManageIQ's renderer does), and the OPTIONS answers (Api::OptionsSerializer).
 */
import type { ActionSpec, Row } from './query';
import { POWER_ACTIONS, type Collection, type Resource, type Snapshot } from './state';

export function resourceRow(href: string, r: Resource): Row {
  return {
    href,
    id: r.id,
    name: r.name,
    type: r.type,
    vendor: r.vendor,
    power_state: r.powerState,
    raw_power_state: r.powerState === 'on' ? 'poweredOn' : r.powerState === 'off' ? 'poweredOff' : 'suspended',
    template: false,
    guid: `00000000-0000-4000-8000-${r.id.padStart(12, '0')}`,
    ems_id: '1',
    created_on: new Date(r.createdOn).toISOString(),
    updated_on: new Date(r.createdOn).toISOString(),
  };
}

export function snapshotRow(href: string, s: Snapshot): Row {
  return {
    href,
    id: s.id,
    uid: s.uid,
    parent_id: s.parentId,
    name: s.name,
    description: s.description,
    current: s.current ? 1 : 0,
    total_size: s.totalSize,
    create_time: new Date(s.createTime).toISOString(),
    vm_or_template_id: s.resourceId,
    created_on: new Date(s.createTime).toISOString(),
    updated_on: new Date(s.createTime).toISOString(),
  };
}

/** What a VM or instance (or their collection, for several at once) offers: the actions the simulator carries out. */
export function resourceActions(href: string, single: boolean): ActionSpec[] {
  return [...Object.keys(POWER_ACTIONS).map((name) => ({ name, method: 'post', href })), ...(single ? [] : [{ name: 'query', method: 'post', href }])];
}

export function snapshotActions(base: string, c: Collection, snapshotId?: string): ActionSpec[] {
  if (snapshotId === undefined)
    return [
      { name: 'create', method: 'post', href: base },
      { name: 'delete', method: 'post', href: base },
    ];
  const href = `${base}/${snapshotId}`;
  return [...(c === 'vms' ? [{ name: 'revert', method: 'post', href }] : []), { name: 'delete', method: 'post', href }, { name: 'delete', method: 'delete', href }];
}

const VM_ATTRIBUTES = ['created_on', 'ems_id', 'guid', 'id', 'name', 'power_state', 'raw_power_state', 'template', 'type', 'updated_on', 'vendor'];

/**
 * OPTIONS on a collection (and on one of its resources: ManageIQ routes both to the collection's
 * options). Only the subcollection the simulator serves is listed.
 */
export function collectionOptions(c: Collection, data: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    attributes: VM_ATTRIBUTES,
    virtual_attributes: ['ipaddresses', 'v_total_snapshots'],
    relationships: ['ext_management_system', 'snapshots'],
    subcollections: ['snapshots'],
    data,
  };
}

/** OPTIONS on …/:id/snapshots: the collection's options with the create form (a data-driven-forms schema) in `data`. */
export function snapshotFormOptions(c: Collection): Record<string, unknown> {
  const fields = [
    { component: 'text-field', name: 'name', id: 'name', label: 'Name', isRequired: true, validate: [{ type: 'required' }] },
    { component: 'textarea', name: 'description', id: 'description', label: 'Description' },
    ...(c === 'vms' ? [{ component: 'switch', name: 'memory', id: 'memory', label: 'Snapshot VM memory', onText: 'Yes', offText: 'No' }] : []),
  ];
  return collectionOptions(c, { snapshot_form_schema: { fields } });
}
