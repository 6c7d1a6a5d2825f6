/**
 * "a" or "an" before a word in a generated sentence ("an altaro endpoint", "a manageiqSnapshot
 * run"), by the word's first letter: the names we put there (vendors, workflow types, operations)
 * are read as they are spelled.
 */
export function withArticle(word: string): string {
  return `${/^[aeiou]/i.test(word) ? 'an' : 'a'} ${word}`;
}
