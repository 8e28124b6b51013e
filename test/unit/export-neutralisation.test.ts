/**
 * Issue #19 §6: full-width ＝ ＋ － ＠ were neutralised by one CSV writer (src/web/csv.ts, the
 * attendance CSV) but not by the report and sessions exports (CSV and XLSX). One rule for every
 * export: each of the four files is written by the real writer and read back (the XLSX with
 * exceljs), with ASCII and full-width leading characters, behind spaces of every kind.
 */
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import type { ReportRow } from '../../src/domain/course-report';
import { neutralizeFormula, reportTable, sessionsTable } from '../../src/domain/export-table';
import { csvCell } from '../../src/web/csv';
import { toCsv, toXlsx } from '../../src/web/exports/table-writers';
import { parseCsv } from '../support/csv';
import { sessionFixture } from '../support/session-fixture';

const T0 = new Date('2026-01-15T12:00:00Z');
const LEADS = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
const SPACES = ['', '  ', '\u00a0', '\u3000', ' \n '];
const HOSTILE = LEADS.flatMap((lead) => SPACES.map((space) => `${space}${lead}HYPERLINK("http://evil.example")`));

function row(name: string, i: number): ReportRow {
  return {
    sub: `u${i}`, name, email: `${name}@example.cl`, run: '12345678-5', runFix: null,
    action: { codigoCurso: 'ACCION-BASE-01', codSence: '1237654321', lineaCapacitacion: 3 }, actionSource: 'course', exempt: false,
    accreditedSeconds: 60, percent: 1, accessMark: true, sessionCount: 1, closedCount: 1, lastSessionAt: T0, lastError: null,
    status: 'al-dia', inRoster: true, launched: true,
    sessions: [sessionFixture(`u${i}`, new Date(T0.getTime() + i * 1000), { id: `s${i}`, idSesionAlumno: `a${i}`, state: 'closed', openedAt: T0, endedAt: T0, accreditedSeconds: 60 })],
  };
}

const rows = HOSTILE.map(row);
const EXPORTS = [
  ['report', reportTable(rows)],
  ['sessions', sessionsTable(rows)],
] as const;

async function xlsxNames(buffer: Buffer): Promise<unknown[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buffer as unknown as ExcelJS.Buffer);
  const ws = wb.worksheets[0]!;
  const out: unknown[] = [];
  for (let r = 2; r <= ws.rowCount; r += 1) {
    expect(ws.getRow(r).getCell(2).formula).toBeUndefined();
    out.push(ws.getRow(r).getCell(2).value);
  }
  return out;
}

describe.each(EXPORTS)('the %s export', (_name, table) => {
  it('CSV: every name starting (after spaces) with = + - @ or ＝ ＋ － ＠ gets a leading apostrophe', () => {
    const csv = parseCsv(toCsv(table).toString('utf8').replace(/^\uFEFF/, ''));
    const names = csv.slice(1).map((r) => r[1]);
    expect(names.sort()).toEqual(HOSTILE.map((n) => `'${n}`).sort());
  });

  it('XLSX: the same rule, and no cell is a formula', async () => {
    const names = await xlsxNames(await toXlsx(table, { title: 't' }));
    expect(names.sort()).toEqual(HOSTILE.map((n) => `'${n}`).sort());
  });
});

describe('one rule for every export', () => {
  it.each(['Ana Pérez', 'a=b', '12345678-5', 'ＡＢＣ', 'ana＠example.cl', ''])('leaves %j alone in every writer', (value) => {
    expect(neutralizeFormula(value)).toBe(value);
    expect(csvCell(value)).toBe(`"${value}"`);
  });

  it('the attendance CSV (csvCell) and the exports (neutralizeFormula) decide the same for any text', () => {
    const lead = fc.constantFrom('=', '+', '-', '@', '＝', '＋', '－', '＠', '\t', '\r', '\n', ' ', '\u00a0', '\u3000', 'a', '1', '\'');
    fc.assert(
      fc.property(fc.array(lead, { maxLength: 4 }), fc.string({ maxLength: 8 }), (prefix, rest) => {
        const value = prefix.join('') + rest;
        expect(csvCell(value)).toBe(`"${neutralizeFormula(value).replace(/"/g, '""')}"`);
      }),
      { seed: 19, numRuns: 2000 },
    );
  });
});
