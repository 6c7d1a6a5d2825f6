/**
 * How ManageIQ answers a GET on a collection or subcollection (Api::BaseController#index):
 * `filter[]` (ANDed), `sort_by`/`sort_order`, `attributes`, `expand=resources`, and paging that is
 * always on (offset 0 and the 1000 cap when not given), with `count`, `subcount`, `subquery_count`
 * (only with a filter), `pages` and `links` as Api::LinksBuilder makes them.
 */
import type { SimRequest } from '../framework/types';
import { ManageiqFault } from './state';

export type Row = Record<string, string | number | boolean | null>;
export interface ActionSpec {
  name: string;
  method: string;
  href: string;
}

/** Settings.api.max_results_per_page */
const MAX_PER_PAGE = 1000;

interface Filter {
  attr: string;
  op: '=' | '!=' | '>' | '<' | '>=' | '<=';
  value: string;
}

function parseFilter(expr: string): Filter {
  const m = /^\s*([a-z_][a-z0-9_]*)\s*(!=|>=|<=|=|>|<)\s*(.*?)\s*$/i.exec(expr);
  if (!m) throw new ManageiqFault(400, `Unsupported filter expression: ${expr}`, 'Api::BadRequestError');
  let value = m[3]!;
  if (/^'.*'$/.test(value) || /^".*"$/.test(value)) value = value.slice(1, -1);
  return { attr: m[1]!, op: m[2] as Filter['op'], value };
}

function matches(row: Row, f: Filter): boolean {
  if (!(f.attr in row)) throw new ManageiqFault(400, `Unknown attribute ${f.attr} specified in filter`, 'Api::BadRequestError');
  const raw = row[f.attr];
  const actual = raw === null ? '' : String(raw);
  if (f.op === '=' || f.op === '!=') {
    const pattern = new RegExp(
      `^${f.value
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    const hit = f.value === 'NULL' ? raw === null : pattern.test(actual);
    return f.op === '=' ? hit : !hit;
  }
  const numeric = typeof raw === 'number' && /^-?\d+(\.\d+)?$/.test(f.value);
  const cmp = numeric ? (raw as number) - Number(f.value) : actual.localeCompare(f.value);
  return f.op === '>' ? cmp > 0 : f.op === '<' ? cmp < 0 : f.op === '>=' ? cmp >= 0 : cmp <= 0;
}

function sortRows(rows: Row[], sortBy: string | null, sortOrder: string | null): Row[] {
  if (!sortBy) return rows;
  const attrs = sortBy.split(',').map((a) => a.trim());
  const orders = (sortOrder ?? 'asc').split(',').map((o) => o.trim().toLowerCase());
  return [...rows].sort((a, b) => {
    for (const [i, attr] of attrs.entries()) {
      if (!(attr in a)) throw new ManageiqFault(400, `${attr} is not a valid attribute to sort by`, 'Api::BadRequestError');
      const desc = (orders[i] ?? orders[0]) === 'desc';
      const x = a[attr];
      const y = b[attr];
      let cmp = 0;
      if (typeof x === 'number' && typeof y === 'number') cmp = x - y;
      else if (attr === 'id') cmp = Number(x) - Number(y);
      else cmp = String(x ?? '').localeCompare(String(y ?? ''));
      if (cmp !== 0) return desc ? -cmp : cmp;
    }
    return 0;
  });
}

/** `filter[]` of the request applied to rows. */
function filterRows(req: SimRequest, rows: Row[]): { matching: Row[]; filtered: boolean } {
  const filters = req.query.getAll('filter[]').map(parseFilter);
  return { matching: rows.filter((row) => filters.every((f) => matches(row, f))), filtered: filters.length > 0 };
}

export function expands(req: SimRequest, what: string): boolean {
  return (req.query.get('expand') ?? '')
    .split(',')
    .map((e) => e.trim())
    .includes(what);
}

/** `attributes=a,b`: the resource keeps its href and id and those (unknown names are left out). */
export function selectAttributes(req: SimRequest, row: Row): Row {
  const wanted = (req.query.get('attributes') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  if (!wanted.length) return row;
  const out: Row = {};
  for (const key of ['href', 'id', ...wanted]) if (key in row) out[key] = row[key]!;
  return out;
}

function pagingParam(req: SimRequest, name: 'offset' | 'limit'): number | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  if (/[^0-9]/.test(raw)) throw new ManageiqFault(400, `Non numeric parameter: ${name}`, 'Api::BadRequestError');
  return Number(raw);
}

/**
 * A collection's answer. `count` is how many the collection holds in all (for a subcollection,
 * ManageIQ counts the whole model: every snapshot on the appliance); paging counts the filtered
 * rows when there is a filter, else `count`, so a subcollection's `next` can point past its end.
 */
export function renderCollection(req: SimRequest, spec: { name: string; href: string; rows: Row[]; count: number; actions: ActionSpec[] }): { body: Record<string, unknown>; page: Row[] } {
  const { matching, filtered } = filterRows(req, spec.rows);
  const sorted = sortRows(matching, req.query.get('sort_by'), req.query.get('sort_order'));
  const offset = pagingParam(req, 'offset') ?? 0;
  const limit = Math.min(MAX_PER_PAGE, pagingParam(req, 'limit') ?? MAX_PER_PAGE);
  if (limit === 0) throw new ManageiqFault(400, 'Limit must be greater than zero if offset is specified', 'Api::BadRequestError');
  const page = sorted.slice(offset, offset + limit);
  const pagingCount = filtered ? matching.length : spec.count;
  const link = (o: number) => {
    const q = new URLSearchParams(req.query);
    q.set('offset', String(o));
    return `${spec.href}?${q.toString()}`;
  };
  const previous = offset - limit;
  const body = {
    name: spec.name,
    count: spec.count,
    subcount: page.length,
    ...(filtered ? { subquery_count: matching.length } : {}),
    pages: Math.ceil(pagingCount / limit),
    resources: page.map((row) => (expands(req, 'resources') ? selectAttributes(req, row) : { href: row.href })),
    actions: spec.actions,
    links: {
      self: link(offset),
      ...(offset + limit < pagingCount ? { next: link(offset + limit) } : {}),
      ...(offset > 0 ? { previous: link(Math.max(0, previous)) } : {}),
      first: link(0),
      // Api::LinksBuilder's own arithmetic (an exact multiple of the limit points one page past the end).
      last: link(pagingCount - (pagingCount % limit)),
    },
  };
  return { body, page };
}
