/**
 * Bad input, the cheap half: the parsers without HTTP. lib/xml's parseXml gets random
 * XML-ish text (it may refuse with an Error, never pollute prototypes or return a non-object), and
 * parseVendorBody runs every zod schema each vendor's schemas.ts exports against random values:
 * a value or a MalformedResponseError whose message names the field. See docs/fuzzing.md.
 */
import { test, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { z } from 'zod';
import { buildXml, parseXml } from '../../lib/xml';
import { parseVendorBody } from '../../lib/schema';
import { MalformedResponseError } from '../../lib/errors';
import * as ovirtSchemas from '../../activities/ovirt/schemas';
import * as altaroSchemas from '../../activities/altaro/schemas';
import * as azureSchemas from '../../activities/azure/schemas';
import * as onappSchemas from '../../activities/onapp/schemas';
import * as manageiqSchemas from '../../activities/manageiq/schemas';
import { assertNamesField, assertNoUnhandled, count, countOf, installUnhandledGuard, nastyString, params, randomXmlDoc, report, runsFor, serialize, xmlishText } from './kit';
import * as samples from './vendor-samples';

installUnhandledGuard();
const RUNS = runsFor(300);
afterAll(() => console.log(report('parsers (direct)')));

const xmlNames = [...samples.ovirt.names, ...samples.onapp.names, '__proto__', 'constructor', 'prototype', 'polluted'];
const xmlText = fc.oneof(
  xmlishText,
  randomXmlDoc(xmlNames).map((d) => serialize(d, 'xml')),
  fc.constantFrom(
    '<__proto__><polluted>yes</polluted></__proto__>',
    '<vm><constructor><prototype><polluted>yes</polluted></prototype></constructor></vm>',
    '<vm id="1" __proto__="x"><name>a</name></vm>',
    '<!DOCTYPE vm [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><vm>&b;&b;&b;</vm>',
    '<vm>' + '<a>'.repeat(500) + '</a>'.repeat(500) + '</vm>',
  ),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

test('parseXml: random XML-ish text gives an object or an Error, and pollutes no prototype', async () => {
  const name = 'lib/xml parseXml';
  fc.assert(
    fc.property(xmlText, (text) => {
      count(name);
      let doc: unknown;
      try {
        doc = parseXml(text);
      } catch (err) {
        assert.ok(err instanceof Error, `parseXml threw a non-Error: ${String(err)}`);
        return;
      } finally {
        assert.equal(({} as Record<string, unknown>).polluted, undefined, `prototype polluted by ${JSON.stringify(text)}`);
      }
      assert.ok(doc !== null && typeof doc === 'object' && !Array.isArray(doc), `parseXml returned ${JSON.stringify(doc)}`);
    }),
    params(RUNS),
  );
  assert.ok(countOf(name) >= RUNS);
  await assertNoUnhandled();
});

test('buildXml → parseXml keeps every attribute and text value as it was ("true" included)', async () => {
  const name = 'lib/xml buildXml round trip';
  // Values as vendors send them: the parser trims, so no edge whitespace.
  const value = fc.oneof(fc.constantFrom('true', 'false', '0', '007'), fc.string({ minLength: 1, maxLength: 20 })).filter((v) => v.trim() === v && v !== '');
  fc.assert(
    fc.property(value, value, (attribute, text) => {
      count(name);
      const doc = { snapshot: { '@_id': attribute, description: text } };
      const back = parseXml(buildXml(doc)) as { snapshot: { '@_id'?: string; description?: string } };
      assert.equal(back.snapshot['@_id'], attribute, `attribute ${JSON.stringify(attribute)} in ${buildXml(doc)}`);
      assert.equal(back.snapshot.description, text, `text ${JSON.stringify(text)} in ${buildXml(doc)}`);
    }),
    params(RUNS),
  );
  assert.ok(countOf(name) >= RUNS);
});

const vendors: Array<[string, Record<string, unknown>]> = [
  ['ovirt', ovirtSchemas],
  ['altaro', altaroSchemas],
  ['azure', azureSchemas],
  ['onapp', onappSchemas],
  ['manageiq', manageiqSchemas],
];

const anyBody = fc.oneof(
  fc.anything({ withNullPrototype: true, withSparseArray: true, withUnicodeString: true }),
  fc.jsonValue(),
  fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), nastyString), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
);

for (const [vendor, mod] of vendors) {
  const schemas = Object.entries(mod).filter((e): e is [string, z.ZodType] => e[1] instanceof z.ZodType);
  test(`${vendor}: parseVendorBody with each of its ${schemas.length} schemas gives a value or a MalformedResponseError naming the field`, async () => {
    assert.ok(schemas.length > 0);
    const name = `${vendor} schemas (${schemas.length}) via parseVendorBody`;
    fc.assert(
      fc.property(fc.constantFrom(...schemas), anyBody, ([schemaName, schema], body) => {
        count(name);
        const label = `${vendor}.${schemaName}`;
        try {
          parseVendorBody(schema, body, { vendor, operation: `GET /${schemaName}`, status: 200 });
        } catch (err) {
          assert.ok(err instanceof MalformedResponseError, `${label}: threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.stack ?? String(err)}`);
          assertNamesField(label, err.vendorMessage);
        }
      }),
      params(RUNS * 2),
    );
    assert.ok(countOf(name) >= RUNS * 2);
    await assertNoUnhandled();
  });
}
