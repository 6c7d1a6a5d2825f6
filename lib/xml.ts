/** XML in and out for the XML vendors (oVirt, OnApp), on fast-xml-parser. */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep every scalar a string: the schemas decide types, so "007" ids and "true" survive intact.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  // Otherwise an attribute whose value is "true" is written bare (`<x enabled>`), which is not XML.
  suppressBooleanAttributes: false,
  format: false,
});

export function parseXml(text: string): Record<string, unknown> {
  const result = parser.parse(text, true);
  return result as Record<string, unknown>;
}

export function buildXml(doc: Record<string, unknown>): string {
  return builder.build(doc) as string;
}

/** XML collections parse to one object or an array depending on the count; this evens it out. */
export function asArray<T>(value: T | T[] | undefined | null | ''): T[] {
  if (value === undefined || value === null || value === '') return [];
  return Array.isArray(value) ? value : [value];
}
