/**
 * Issue #9, items 5 and 6 over real HTTP: per-learner SENCE actions and exempt marks, by hand and by
 * CSV upload (row-by-row validation, all or nothing, encodings, separators, size limits), the start
 * form carrying the learner's action, the exempt learner's panel, and role checks.
 */
import { launchAs, type Launch } from '../support/lti-flow';
import { pressPanelButton } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities, formById } from '../support/http-client';
import { MAX_UPLOAD_BYTES } from '../../src/domain/action-upload';

let sys: TestSystem;
let diego: Launch;

beforeAll(async () => {
  sys = await startTestSystem();
  await launchAs(sys, 'camila');
  diego = await launchAs(sys, 'diego'); // fetches the roster (elena is known only from it)
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const enrollments = () => sys.stores.enrollments.list(courseKey());
const cookieFor = (launch: Launch, url: string) => [...launch.client.cookies(url).entries()].map(([k, v]) => `${k}=${v}`).join('; ');

async function uploadFile(bytes: Buffer, name = 'acciones.csv', launch = diego): Promise<{ status: number; text: string }> {
  const url = `${sys.url}/lti/staff/actions/upload`; // the ltik travels in the multipart body, never in the URL
  const form = new FormData();
  form.append('ltik', launch.ltik);
  form.append('archivo', new Blob([new Uint8Array(bytes)], { type: 'text/csv' }), name);
  try {
    const res = await fetch(url, { method: 'POST', body: form, headers: { cookie: cookieFor(launch, url) } });
    return { status: res.status, text: decodeEntities(await res.text()) };
  } catch (error) {
    // The server may answer 413 and close before a huge body is fully sent.
    return { status: -1, text: String((error as Error).cause ?? error) };
  }
}

describe('CSV upload', () => {
  it('refuses a file with any bad row, reports each row, and changes nothing', async () => {
    const before = await enrollments();
    const csv = ['RUN;CodigoCurso', '9876543-3;ACCION-DOS-0001', '9876543-4;ACCION-DOS-0001', '11111111-1;ACCION-DOS-0001', '15432987-0;EXENTO;sobra', '', '9876543-3;EXENTO', '15432987-0;X'].join('\r\n');
    const res = await uploadFile(Buffer.from(csv, 'utf8'));
    expect(res.status).toBe(400);
    expect(res.text).toContain('No se guardó nada del archivo «acciones.csv».');
    expect(res.text).toContain('5 de 6 fila(s) tienen errores');
    expect(res.text).toContain('el dígito verificador del RUN «9876543-4» no coincide');
    expect(res.text).toContain('el RUN 11111111-1 no está en la lista de participantes del curso');
    expect(res.text).toContain('tiene 3 columna(s); se esperan 2');
    expect(res.text).toContain('el RUN 9876543-3 está repetido (ya aparece en la línea 2)');
    expect(res.text).toContain('CodigoCurso «X»: el código debe tener entre 7 y 50 caracteres');
    expect(res.text).toMatch(/<tr class="row-ok" data-line="2">/);
    expect(res.text).toMatch(/<tr class="row-error" data-line="8">/);
    expect(await enrollments()).toEqual(before);
    expect((await sys.stores.audit.list({ limit: 50 })).some((e) => e.event === 'enrollment-rejected' && e.reason.includes('5 de 6 fila(s) con errores'))).toBe(true);
  });

  it('applies a valid Latin-1 file with ";" and a header: one action and one exempt learner', async () => {
    const res = await uploadFile(Buffer.from('RUN;Código Curso\r\n9.876.543-3;ACCION-DOS-0001\r\n15432987-0;exento\r\n', 'latin1'), 'planilla-ñandú.csv');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Se guardaron 2 fila(s) del archivo «planilla-ñandú.csv».');
    expect(res.text).toContain('archivo leído como Latin-1, separador «;»');
    const settings = (await sys.stores.courses.get(courseKey()))!.settings!;
    const stored = await enrollments();
    expect(stored.map((e) => ({ sub: e.sub, run: e.run, action: e.action, exempt: e.exempt }))).toEqual([
      { sub: 'camila', run: '9876543-3', action: { codigoCurso: 'ACCION-DOS-0001', codSence: settings.codSence, lineaCapacitacion: settings.lineaCapacitacion }, exempt: false },
      { sub: 'elena', run: '15432987-0', action: null, exempt: true },
    ]);
    const report = decodeEntities((await diego.client.get(`${sys.url}/lti/staff/report?ltik=${encodeURIComponent(diego.ltik)}&accion=ACCION-DOS-0001`)).text);
    expect([...report.matchAll(/data-sub="([^"]+)"/g)].map((m) => m[1])).toEqual(['camila']);
    const exempt = decodeEntities((await diego.client.get(`${sys.url}/lti/staff/report?ltik=${encodeURIComponent(diego.ltik)}&estado=exento`)).text);
    expect([...exempt.matchAll(/data-sub="([^"]+)"/g)].map((m) => m[1])).toEqual(['elena']);
    expect(exempt).toMatch(/id="chip-exento"[^>]*>exento <span class="chip-count">1<\/span>/);
  });

  it('accepts UTF-8 with "," and puts a learner back on the course action with the course code', async () => {
    const settings = (await sys.stores.courses.get(courseKey()))!.settings!;
    const res = await uploadFile(Buffer.from(`\uFEFF9876543-3,${settings.codigoCurso}\n`, 'utf8'));
    expect(res.status).toBe(200);
    expect((await sys.stores.enrollments.get(courseKey(), 'camila'))?.action).toBeNull();
    await uploadFile(Buffer.from('9876543-3;ACCION-DOS-0001\n', 'utf8'));
  });

  it('a binary file (an .xlsx) is refused with a clear message', async () => {
    const before = await enrollments();
    const res = await uploadFile(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00]), 'acciones.xlsx');
    expect(res.status).toBe(400);
    expect(res.text).toContain('no es un CSV de texto');
    expect(await enrollments()).toEqual(before);
  });

  it('1 MB exactly is read; one byte more, or a 10 MB file, is refused with 413 and nothing changes', async () => {
    const row = Buffer.from('9876543-3;ACCION-DOS-0001\n');
    const atLimit = Buffer.concat([row, Buffer.alloc(MAX_UPLOAD_BYTES - row.length, 0x0a)]);
    expect((await uploadFile(atLimit)).status).toBe(200);
    const before = await enrollments();
    const over = await uploadFile(Buffer.concat([atLimit, Buffer.from('\n')]));
    expect(over.status).toBe(413);
    expect(over.text).toContain('El archivo es demasiado grande: el máximo es 1 MB (unas 5.000 filas). No se guardó nada.');
    const huge = await uploadFile(Buffer.alloc(10 * 1024 * 1024, 0x41));
    expect(huge.status).toBe(413);
    expect(huge.text).toContain('El archivo es demasiado grande');
    expect(await enrollments()).toEqual(before);
  });
});

describe('the learner\'s side', () => {
  it('the start form carries the learner\'s own action', async () => {
    const camila = await launchAs(sys, 'camila');
    const trip = await pressPanelButton(sys, camila.client, camila.ltik, 'start');
    expect(trip.senceForm.fields.CodigoCurso).toBe('ACCION-DOS-0001');
    expect(trip.senceForm.fields.RunAlumno).toBe('9876543-3');
    const ana = await launchAs(sys, 'ana');
    const other = await pressPanelButton(sys, ana.client, ana.ltik, 'start');
    expect(other.senceForm.fields.CodigoCurso).toBe((await sys.stores.courses.get(courseKey()))!.settings!.codigoCurso);
  });

  it('an exempt learner\'s panel says no SENCE registration is needed and has no open button; starting is refused', async () => {
    const elena = await launchAs(sys, 'elena');
    const text = decodeEntities(elena.panel.text);
    expect(elena.panel.status).toBe(200);
    expect(text).toContain('Estás inscrito en este curso como exento de SENCE');
    expect(text).not.toContain('id="open-button"');
    const res = await elena.client.post(`${sys.url}/lti/sence/start`, { ltik: elena.ltik });
    expect(res.status).toBe(409);
    expect(decodeEntities(res.text)).toContain('Estás marcado como exento de SENCE en este curso');
    expect((await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'elena' }, courseKey()))).toEqual([]);
  });
});

const post = (sub: string, form: Record<string, string>, launch = diego) => launch.client.post(`${sys.url}/lti/staff/learners/${sub}/enrollment`, { ltik: launch.ltik, ...form });

describe('by hand, on the learner\'s page', () => {
  it('refuses a bad action with the reason and keeps what was stored', async () => {
    const before = await enrollments();
    const res = await post('ana', { mode: 'own', codigoCurso: 'AB', codSence: '123', lineaCapacitacion: '3' });
    expect(res.status).toBe(400);
    const text = decodeEntities(res.text);
    expect(text).toContain('No se guardó.');
    expect(text).toContain('Código de la acción: el código debe tener entre 7 y 50 caracteres.');
    expect(text).toContain('Código SENCE: el código SENCE debe tener 10 dígitos.');
    expect(await enrollments()).toEqual(before);
  });

  it('assigns another action (line 1, blank CodSence), then marks exempt, then back to the course action', async () => {
    const saved = await post('ana', { mode: 'own', codigoCurso: 'BECA-LAB-2026-01', codSence: '', lineaCapacitacion: '1' });
    // Post/redirect/get without the ltik in a URL: an auto-submitted navigation POST to the learner's page.
    expect(saved.status).toBe(200);
    const onward = formById(saved.text, saved.url, 'auto-post');
    expect(onward.action).toBe(`${sys.url}/lti/staff/learners/ana?guardado=1`);
    expect(onward.fields).toMatchObject({ ltik: diego.ltik, _nav: '1' });
    expect((await sys.stores.enrollments.get(courseKey(), 'ana'))).toMatchObject({ action: { codigoCurso: 'BECA-LAB-2026-01', codSence: '', lineaCapacitacion: 1 }, exempt: false });
    const page = decodeEntities((await diego.client.submit(onward)).text);
    expect(page).toContain('Cambios guardados.');
    expect(page).toContain('BECA-LAB-2026-01 · línea 1 (asignada a este estudiante)');
    expect((await post('ana', { exempt: '1', mode: 'default' })).status).toBe(200);
    expect((await sys.stores.enrollments.get(courseKey(), 'ana'))).toMatchObject({ action: null, exempt: true });
    expect((await post('ana', { mode: 'default' })).status).toBe(200);
    expect((await sys.stores.enrollments.get(courseKey(), 'ana'))).toMatchObject({ action: null, exempt: false });
  });
});

describe('role checks', () => {
  it('a learner gets 403 in Spanish on the actions page, the upload and the learner form, and nothing changes', async () => {
    const ana = await launchAs(sys, 'ana');
    const before = await enrollments();
    const page = await ana.client.get(`${sys.url}/lti/staff/actions?ltik=${encodeURIComponent(ana.ltik)}`);
    expect(page.status).toBe(403);
    expect(decodeEntities(page.text)).toContain('Esta página es solo para el equipo docente del curso.');
    const up = await uploadFile(Buffer.from('12345678-5;EXENTO\n'), 'a.csv', ana);
    expect(up.status).toBe(403);
    expect(up.text).toContain('Esta página es solo para el equipo docente del curso.');
    const form = await post('ana', { exempt: '1' }, ana);
    expect(form.status).toBe(403);
    expect(await enrollments()).toEqual(before);
  });
});
