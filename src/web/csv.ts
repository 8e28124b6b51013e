/**
 * CSV cells for spreadsheets (OWASP "CSV injection"): every cell quoted, and the one formula rule
 * of every export (neutralizeFormula, src/domain/export-table.ts: = + - @ and ＝ ＋ － ＠ after any
 * spaces or line breaks, or a leading tab/CR/LF, get a leading apostrophe).
 */
import { neutralizeFormula } from '../domain/export-table';

export function csvCell(value: string): string {
  return `"${neutralizeFormula(value).replace(/"/g, '""')}"`;
}
