/** Registers the custom search attributes (contracts/search-attributes.ts) on a dev server: `npm start` and the tests. */
import { allSearchAttributes } from '../../contracts/search-attributes';

/** As `temporal server start-dev --search-attribute` wants them. */
export function searchAttributeArgs(): string[] {
  return allSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}
