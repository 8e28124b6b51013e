import { decodeUpload, enrollmentsFromUpload, MAX_UPLOAD_BYTES, MAX_UPLOAD_ROWS, parseActionUpload } from '../../src/domain/action-upload';
import type { CourseSettings } from '../../src/domain/types';

const settings: CourseSettings = { otecId: 'o', lineaCapacitacion: 3, codSence: '1234567890', codigoCurso: 'CURSO-BASE-01', requiredHours: 20, environment: 'test', sessionLimitMinutes: 180, warningMinutes: 10 };
const learners = [
  { sub: 'ana', run: '12345678-5', name: 'Ana Pérez' },
  { sub: 'camila', run: '9876543-3', name: 'Camila Rojas' },
  { sub: 'elena', run: '15432987-0', name: 'Elena Muñoz' },
];
const parse = (text: string | Uint8Array) => parseActionUpload(typeof text === 'string' ? Buffer.from(text, 'utf8') : text, { learners, settings });
const course = { issuer: 'i', clientId: 'c', contextId: 'x' };

describe('parseActionUpload', () => {
  it('accepts ";" with a header, "," without, quoted cells, CRLF/LF, empty lines, dotted RUNs', () => {
    const a = parse('RUN;CodigoCurso\r\n12.345.678-5;ACCION-0002\r\n\r\n"9876543-3";"EXENTO"\r\n15432987-0;CURSO-BASE-01\r\n');
    expect(a.fileErrors).toEqual([]);
    expect(a.valid).toBe(true);
    expect(a.separator).toBe(';');
    expect(a.rows.map((r) => [r.line, r.effect])).toEqual([[2, 'acción ACCION-0002'], [4, 'exento (no registra en SENCE)'], [5, 'acción del curso']]);
    expect(enrollmentsFromUpload(a, course, new Date(0))).toEqual([
      { course, sub: 'ana', run: '12345678-5', action: { codigoCurso: 'ACCION-0002', codSence: '1234567890', lineaCapacitacion: 3 }, exempt: false, updatedAt: new Date(0) },
      { course, sub: 'camila', run: '9876543-3', action: null, exempt: true, updatedAt: new Date(0) },
      { course, sub: 'elena', run: '15432987-0', action: null, exempt: false, updatedAt: new Date(0) },
    ]);
    const b = parse('12345678-5,ACCION-0002\n9876543-3,exento');
    expect(b.valid).toBe(true);
    expect(b.separator).toBe(',');
  });

  it('reads Latin-1 (Excel in Chile) and UTF-8 with BOM alike', () => {
    const latin1 = Buffer.from('RUN;Código Curso\r\n12345678-5;ACCIÓN-0002\r\n', 'latin1');
    const r1 = parse(latin1);
    expect(r1.encoding).toBe('Latin-1');
    expect(r1.rows[0]?.errors).toEqual(['CodigoCurso «ACCIÓN-0002»: el código solo puede tener letras, números, guiones, puntos y barras']);
    const r2 = parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('RUN;Código Curso\n12345678-5;ACCION-0002\n', 'utf8')]));
    expect(r2.encoding).toBe('UTF-8');
    expect(r2.valid).toBe(true);
    expect(r2.rows).toHaveLength(1);
  });

  it('reports every bad row, row by row, and is not valid when any row fails', () => {
    const r = parse([
      '12345678-5;ACCION-0002',
      '12345678-4;ACCION-0002', // check digit
      '1234;ACCION-0002', // format
      '11111111-1;ACCION-0002', // not in the roster
      '12345678-5;ACCION-0003', // duplicate
      '9876543-3;AB', // too short
      '15432987-0;ACCION-0002;extra', // extra column
      '15432987-0;', // missing code
    ].join('\n'));
    expect(r.valid).toBe(false);
    expect(r.rows.map((x) => [x.line, x.errors])).toEqual([
      [1, []],
      [2, ['el dígito verificador del RUN «12345678-4» no coincide']],
      [3, ['el RUN «1234» no tiene formato válido (ej.: 12345678-5)']],
      [4, ['el RUN 11111111-1 no está en la lista de participantes del curso']],
      [5, ['el RUN 12345678-5 está repetido (ya aparece en la línea 1)']],
      [6, ['CodigoCurso «AB»: el código debe tener entre 7 y 50 caracteres']],
      [7, ['tiene 3 columna(s); se esperan 2: RUN y CodigoCurso separados por «;»']],
      [8, ['falta el código de la acción (CodigoCurso)']],
    ]);
    expect(enrollmentsFromUpload(r, course, new Date())).toEqual([]);
    // A row with errors says nothing about what it would do.
    for (const bad of r.rows.slice(1)) expect([bad.result, bad.effect]).toEqual([null, null]);
    expect(r.rows[0]!.effect).toBe('acción ACCION-0002');
  });

  it('refuses files that are not text CSV, empty, without separator, or over the limits (exactly at the limit is fine)', () => {
    expect(parse(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00])).fileErrors[0]).toContain('no es un CSV de texto');
    expect(parse(Buffer.from('\uFEFF12345678-5;ACCION-0002', 'utf16le')).fileErrors[0]).toMatch(/^El archivo está en UTF-16/);
    expect(parse('').fileErrors).toEqual(['El archivo está vacío.']);
    expect(parse('\r\n\r\n').fileErrors).toEqual(['El archivo no tiene filas.']);
    expect(parse('12345678-5 ACCION-0002').fileErrors[0]).toContain('No se reconoce el separador');
    expect(parse('RUN;CodigoCurso\n').fileErrors).toEqual(['El archivo solo tiene la fila de títulos.']);
    const row = '12345678-5;ACCION-0002\n';
    const atRows = parse(row.repeat(MAX_UPLOAD_ROWS));
    expect(atRows.fileErrors).toEqual([]);
    expect(atRows.rows).toHaveLength(MAX_UPLOAD_ROWS);
    expect(parse(row.repeat(MAX_UPLOAD_ROWS + 1))).toEqual({ fileErrors: [`El archivo tiene ${MAX_UPLOAD_ROWS + 1} filas; el máximo es ${MAX_UPLOAD_ROWS}. Divídalo en varios archivos.`], rows: [], separator: ';', encoding: 'UTF-8', valid: false });
    const first = Buffer.from('12345678-5;ACCION-0002\n');
    const atSize = Buffer.concat([first, Buffer.alloc(MAX_UPLOAD_BYTES - first.length, 0x0a)]);
    expect(atSize.length).toBe(MAX_UPLOAD_BYTES);
    expect(parse(atSize).valid).toBe(true);
    expect(parse(Buffer.concat([atSize, Buffer.from('\n')])).fileErrors).toEqual(['El archivo pesa 1.0 MB; el máximo es 1 MB.']);
  });

  it('decodeUpload prefers UTF-8 and falls back to Latin-1', () => {
    expect(decodeUpload(Buffer.from('Ñuñoa', 'utf8'))).toEqual({ ok: true, text: 'Ñuñoa', encoding: 'UTF-8' });
    expect(decodeUpload(Buffer.from('Ñuñoa', 'latin1'))).toEqual({ ok: true, text: 'Ñuñoa', encoding: 'Latin-1' });
  });
});

describe('parseActionUpload: encodings, quoting and what each refusal says', () => {
  it('UTF-16 in either byte order is refused with how to save the file; Latin-1 "ÿ" or "þ" at the start is not UTF-16', () => {
    const message = 'El archivo está en UTF-16 («Texto Unicode» de Excel). Guárdelo como «CSV UTF-8» o «CSV (delimitado por punto y coma)» y súbalo de nuevo.';
    expect(decodeUpload(Buffer.from([0xff, 0xfe, 0x41, 0x00]))).toEqual({ ok: false, message });
    expect(decodeUpload(Buffer.from([0xfe, 0xff, 0x00, 0x41]))).toEqual({ ok: false, message });
    expect(decodeUpload(Buffer.from([0xff, 0x41]))).toEqual({ ok: true, text: 'ÿA', encoding: 'Latin-1' });
    expect(decodeUpload(Buffer.from([0xfe, 0x41]))).toEqual({ ok: true, text: 'þA', encoding: 'Latin-1' });
    expect(decodeUpload(Buffer.from([0x41, 0xfe, 0xff]))).toEqual({ ok: true, text: 'Aþÿ', encoding: 'Latin-1' });
  });

  it('drops a UTF-8 byte-order mark, and only a whole one', () => {
    expect(decodeUpload(Buffer.from([0xef, 0xbb, 0xbf, 0x41]))).toEqual({ ok: true, text: 'A', encoding: 'UTF-8' });
    expect(decodeUpload(Buffer.from([0xef, 0xbb, 0x41]))).toEqual({ ok: true, text: 'ï»A', encoding: 'Latin-1' });
  });

  it('quoted cells: a doubled quote is a quote, the separator inside quotes is text, spaces around are trimmed', () => {
    const r = parse(' "12345678-5" ; "ACC""ION;01" \n9876543-3;AC"CION-02');
    expect(r.rows.map((x) => [x.run, x.code])).toEqual([['12345678-5', 'ACC"ION;01'], ['9876543-3', 'AC"CION-02']]);
    expect(r.rows[0]!.errors).toEqual(['CodigoCurso «ACC"ION;01»: el código solo puede tener letras, números, guiones, puntos y barras']);
  });

  it('cells are trimmed before they are checked', () => {
    const r = parse('  12345678-5  ;  ACCION-0002  ');
    expect(r.valid).toBe(true);
    expect(r.rows[0]).toMatchObject({ run: '12345678-5', code: 'ACCION-0002', name: 'Ana Pérez', effect: 'acción ACCION-0002' });
  });

  it('a row without a RUN, and long cells shown cut in the message', () => {
    expect(parse(';ACCION-0002').rows[0]!.errors).toEqual(['falta el RUN']);
    const long = parse(`${'1'.repeat(50)};${'A'.repeat(70)}`).rows[0]!;
    expect(long.run).toBe('1'.repeat(40));
    expect(long.code).toBe('A'.repeat(60));
    expect(long.errors).toEqual([`el RUN «${'1'.repeat(40)}» no tiene formato válido (ej.: 12345678-5)`, `CodigoCurso «${'A'.repeat(60)}»: el código debe tener entre 7 y 50 caracteres`]);
  });

  it('one learner named twice under two RUNs', () => {
    const twice = parseActionUpload(Buffer.from('12345678-5;ACCION-0002\n9876543-3;ACCION-0003'), {
      learners: [{ sub: 'ana', run: '12345678-5', name: 'Ana Pérez' }, { sub: 'ana', run: '9876543-3', name: 'Ana Pérez' }],
      settings,
    });
    expect(twice.rows.map((x) => x.errors)).toEqual([[], ['este estudiante ya aparece en la línea 1']]);
    expect(twice.valid).toBe(false);
  });

  it('a file-level refusal checks no row and keeps what was recognised', () => {
    expect(parse('\n   \n')).toEqual({ fileErrors: ['El archivo no tiene filas.'], rows: [], separator: null, encoding: 'UTF-8', valid: false });
    expect(parse('12345678-5 ACCION-0002')).toEqual({ fileErrors: ['No se reconoce el separador: cada fila debe ser «RUN;CodigoCurso» (con punto y coma o coma).'], rows: [], separator: null, encoding: 'UTF-8', valid: false });
    expect(parse('RUN,CodigoCurso')).toEqual({ fileErrors: ['El archivo solo tiene la fila de títulos.'], rows: [], separator: ',', encoding: 'UTF-8', valid: false });
    expect(parse('')).toEqual({ fileErrors: ['El archivo está vacío.'], rows: [], separator: null, encoding: null, valid: false });
  });
});
