/**
 * CSV cells for spreadsheets (OWASP "CSV injection"): every cell quoted; a cell a spreadsheet could
 * read as a formula — starting with = + - @, a tab or a carriage return, also after leading spaces
 * or line breaks — gets a leading apostrophe so it is shown as text.
 */
const FORMULA_START = /^[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|^[\t\r\n]/;

export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return `"${safe.replace(/"/g, '""')}"`;
}
