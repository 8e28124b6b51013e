/**
 * Issue #20, item 3: statuses named for what they are (an access mark is not "al día"), a legend
 * that explains each one, and chart labels that do not run into each other ("abiertasin marca").
 */
import { buildCourseReport, LEARNER_STATUSES, pageReport, parseReportQuery, STATUS_DESCRIPTIONS, STATUS_LABELS, type ReportRow } from '../../src/domain/course-report';
import { statusChart, percentChart, sessionsPerDayChart, type BarChart } from '../../src/web/charts';
import type { AttendanceSession, CourseSettings } from '../../src/domain/types';

const course = { issuer: 'i', clientId: 'c', contextId: 'x' };
const settings: CourseSettings = { otecId: 'o', lineaCapacitacion: 3, codSence: '1234567890', codigoCurso: 'CURSO-BASE-01', requiredHours: 20, environment: 'test', sessionLimitMinutes: 180, warningMinutes: 10 };
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';

describe('status names (issue #20, item 3)', () => {
  it('Ana, with 3 minutes of 20 hours and an access mark, is "con marca de acceso", not "al día"', () => {
    const ana: AttendanceSession = {
      id: 's1', learner: { issuer: 'i', clientId: 'c', sub: 'ana' }, course, otecId: 'o', environment: 'test', idSesionAlumno: 'a1',
      sent: { RutOtec: '76000000-0', CodSence: '1234567890', CodigoCurso: 'CURSO-BASE-01', LineaCapacitacion: '3', RunAlumno: '12345678-5', IdSesionAlumno: 'a1' },
      state: 'closed', limitMinutes: 180, warningMinutes: 10, idSesionSence: 'X', senceStartFechaHora: null, senceZonaHoraria: null,
      createdAt: new Date(0), openedAt: new Date(0), closeRequestedAt: null, endedAt: new Date(180_000), accreditedSeconds: 180, lastErrorCodes: [], endReason: null, version: 1,
    };
    const report = buildCourseReport({ roster: [{ userId: 'ana', name: 'Ana', email: null, sourcedId: '12345678-5', roles: [LEARNER], active: true }], learners: new Map(), sessions: [ana], enrollments: [], settings });
    const row = report.rows[0]!;
    expect(row.percent).toBeLessThan(1);
    expect(STATUS_LABELS[row.status]).toBe('con marca de acceso');
  });

  it('every status has a label that says what it is and a legend line; none says "al día"', () => {
    expect(STATUS_LABELS).toEqual({
      'con-error': 'último intento con error',
      'sin-run': 'sin RUN',
      'sesion-abierta': 'sesión abierta',
      'sin-marca': 'sin marca de acceso',
      'al-dia': 'con marca de acceso',
      exento: 'exento',
    });
    for (const s of LEARNER_STATUSES) {
      expect(STATUS_LABELS[s]).not.toMatch(/al día/i);
      expect(STATUS_DESCRIPTIONS[s].length).toBeGreaterThan(20);
    }
    // The legend says what the mark does NOT mean.
    expect(STATUS_DESCRIPTIONS['al-dia']).toContain('no dice cuántas horas');
    expect(STATUS_DESCRIPTIONS['sin-marca']).toContain('SENCE todavía no aceptó');
  });

  it('the chips count what the search shows, whatever status is chosen, and add up to "Todos"', () => {
    const row = (sub: string, name: string, status: ReportRow['status']) => ({ sub, name, status, run: null } as unknown as ReportRow);
    const rows = [row('a', 'Ana Pérez', 'al-dia'), row('b', 'Ana Soto', 'sin-marca'), row('c', 'Bruno', 'al-dia'), row('d', 'Anabel', 'con-error')];
    const p = pageReport(rows, parseReportQuery({ q: 'ana', estado: 'al-dia' }));
    expect(p.searchTotal).toBe(3);
    expect(p.searchCounts).toEqual({ 'con-error': 1, 'sin-run': 0, 'sesion-abierta': 0, 'sin-marca': 1, 'al-dia': 1, exento: 0 });
    expect(Object.values(p.searchCounts).reduce((a, b) => a + b, 0)).toBe(p.searchTotal);
    expect(p.rows.map((r) => r.sub)).toEqual(['a']);
  });
});

/** The box a chart's text takes (13 px labels: at most 7.5 px a character; 16 px values: 9.5). */
function boxes(chart: BarChart) {
  const out: Array<{ text: string; x0: number; x1: number; y0: number; y1: number }> = [];
  for (const b of chart.bars) {
    for (const t of [{ text: b.axisLabel, x: b.labelX, y: b.labelY, anchor: b.labelAnchor, w: 7.5, h: 16 }, { text: String(b.value), x: b.valueX, y: b.valueY, anchor: b.valueAnchor, w: 9.5, h: 18 }]) {
      if (t.text === '') continue;
      const width = t.text.length * t.w;
      const x0 = t.anchor === 'middle' ? t.x - width / 2 : t.anchor === 'end' ? t.x - width : t.x;
      out.push({ text: t.text, x0, x1: x0 + width, y0: t.y - t.h + 4, y1: t.y + 4 });
    }
  }
  return out;
}

describe('chart labels (issue #20, item 3)', () => {
  const counts = { 'con-error': 1, 'sin-run': 2, 'sesion-abierta': 3, 'sin-marca': 40, 'al-dia': 5, exento: 6 };
  const charts = [statusChart(counts), percentChart([]), sessionsPerDayChart([], new Date(Date.UTC(2026, 10, 30, 15)))];

  it.each(charts.map((c) => [c.id, c] as const))('%s: no two texts overlap and every text is inside the drawing', (_id, chart) => {
    const all = boxes(chart);
    for (const a of all) {
      expect(a.x0).toBeGreaterThanOrEqual(0);
      expect(a.x1).toBeLessThanOrEqual(chart.width);
      expect(a.y0).toBeGreaterThanOrEqual(0);
      expect(a.y1).toBeLessThanOrEqual(chart.height);
    }
    for (let i = 0; i < all.length; i += 1) {
      for (let j = i + 1; j < all.length; j += 1) {
        const a = all[i]!;
        const b = all[j]!;
        const overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
        if (overlap) throw new Error(`«${a.text}» and «${b.text}» overlap in ${chart.id}`);
      }
    }
  });

  it('the status chart labels each bar with the full status name', () => {
    expect(statusChart(counts).bars.map((b) => b.axisLabel)).toEqual(LEARNER_STATUSES.map((s) => STATUS_LABELS[s]));
  });
});
