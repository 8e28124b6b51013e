/**
 * Writers of export tables: CSV for Excel in a Spanish locale (UTF-8 with BOM, `;` separator,
 * decimal comma, CRLF) and XLSX through exceljs. Times are America/Santiago wall time. Text cells
 * are neutralised against spreadsheet formulas in both.
 */
import type ExcelJS from 'exceljs';
import { neutralizeFormula, type Cell, type Table } from '../../domain/export-table';

const PARTS = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'America/Santiago', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});

function santiagoParts(d: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of PARTS.formatToParts(d)) if (p.type !== 'literal') out[p.type] = Number(p.value);
  return out;
}

/** "30-11-2026 14:05:09" in America/Santiago. */
export function santiagoDateTimeText(d: Date): string {
  const p = santiagoParts(d);
  const two = (n: number | undefined) => String(n ?? 0).padStart(2, '0');
  return `${two(p.day)}-${two(p.month)}-${p.year} ${two(p.hour)}:${two(p.minute)}:${two(p.second)}`;
}

/** A Date whose UTC fields are the Santiago wall time (spreadsheets have no time zones). */
export function santiagoWallClock(d: Date): Date {
  const p = santiagoParts(d);
  return new Date(Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0));
}

function csvCell(cell: Cell): string {
  switch (cell.kind) {
    case 'number':
      return cell.value.toFixed(cell.decimals).replace('.', ',');
    case 'datetime':
      return cell.value ? santiagoDateTimeText(cell.value) : '';
    case 'text':
      return `"${neutralizeFormula(cell.value).replace(/"/g, '""')}"`;
  }
}

export function toCsv(table: Table): Buffer {
  const lines = [table.header.map((h) => `"${h.replace(/"/g, '""')}"`).join(';'), ...table.rows.map((r) => r.map(csvCell).join(';'))];
  return Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n', 'utf8');
}

export async function toXlsx(table: Table, meta: { title: string }): Promise<Buffer> {
  // Loaded on the first XLSX export, not at start-up: exceljs alone is ~22 MB of RSS (issue #8).
  const { default: Excel } = (await import('exceljs')) as unknown as { default: typeof ExcelJS };
  const wb = new Excel.Workbook();
  wb.creator = 'Asistencia SENCE';
  wb.title = meta.title;
  const ws = wb.addWorksheet(table.name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.addRow(table.header).font = { bold: true };
  for (const row of table.rows) {
    ws.addRow(row.map((c) => (c.kind === 'text' ? neutralizeFormula(c.value) : c.kind === 'number' ? c.value : c.value ? santiagoWallClock(c.value) : null)));
  }
  table.header.forEach((h, i) => {
    const col = ws.getColumn(i + 1);
    const sample = table.rows[0]?.[i];
    if (sample?.kind === 'datetime') col.numFmt = 'dd-mm-yyyy hh:mm:ss';
    if (sample?.kind === 'number' && sample.decimals > 0) col.numFmt = '0.00';
    const widest = Math.max(h.length, ...table.rows.map((r) => { const c = r[i]; return c?.kind === 'text' ? c.value.length : 12; }));
    col.width = Math.min(60, Math.max(10, widest + 2));
  });
  ws.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: table.header.length } };
  return Buffer.from(await wb.xlsx.writeBuffer());
}
