/**
 * The CSV upload of per-learner SENCE actions (issue #9, item 5): `RUN;CodigoCurso` per line, `,`
 * or `;`, UTF-8 (with or without BOM) or Latin-1, an optional header line, empty lines ignored.
 * The code `EXENTO` marks an exempt learner (item 6); the course's own code puts the learner back on
 * the course default. Every row is validated and reported; the caller saves only when none failed.
 * Pure.
 */
import type { CourseSettings } from './types';
import type { LearnerEnrollment, SenceAction } from './enrollment';
import { codigoCursoProblem } from './enrollment';
import { parseRun } from './rut';

export const MAX_UPLOAD_BYTES = 1024 * 1024;
export const MAX_UPLOAD_ROWS = 5000;
export const EXEMPT_CODE = 'EXENTO';

export type DecodedUpload = { ok: true; text: string; encoding: 'UTF-8' | 'Latin-1' } | { ok: false; message: string };

/** UTF-8 when the bytes are valid UTF-8, else Latin-1 (Windows-1252, what Excel "CSV" writes in Chile). */
export function decodeUpload(bytes: Uint8Array): DecodedUpload {
  if (bytes.length === 0) return { ok: false, message: 'El archivo está vacío.' };
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return { ok: false, message: 'El archivo está en UTF-16 («Texto Unicode» de Excel). Guárdelo como «CSV UTF-8» o «CSV (delimitado por punto y coma)» y súbalo de nuevo.' };
  }
  if (bytes.includes(0)) return { ok: false, message: 'El archivo no es un CSV de texto (parece un archivo binario, por ejemplo un .xlsx). Guárdelo como «CSV (delimitado por punto y coma)».' };
  const body = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true }).decode(body), encoding: 'UTF-8' };
  } catch {
    return { ok: true, text: new TextDecoder('windows-1252').decode(body), encoding: 'Latin-1' };
  }
}

/** A learner the upload may name: in the course's roster (or known to the tool) with a known RUN. */
export interface UploadLearner {
  sub: string;
  run: string;
  name: string;
}

export interface UploadRow {
  line: number;
  run: string;
  code: string;
  name: string | null;
  errors: string[];
  /** What will be stored when every row is valid. */
  result: { sub: string; action: SenceAction | null; exempt: boolean; run: string } | null;
  /** Spanish: what the row does. */
  effect: string | null;
}

export interface UploadResult {
  /** File-level problems (encoding, size, separator, row count); rows are not checked then. */
  fileErrors: string[];
  rows: UploadRow[];
  separator: ';' | ',' | null;
  encoding: 'UTF-8' | 'Latin-1' | null;
  valid: boolean;
}

function splitLine(line: string, sep: string): string[] {
  // Cells may be quoted ("…"), as Excel writes them; a quoted cell may hold the separator.
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i += 1; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"' && cell.trim() === '') { quoted = true; cell = ''; }
    else if (ch === sep) { cells.push(cell); cell = ''; }
    else cell += ch;
  }
  cells.push(cell);
  return cells.map((c) => c.trim());
}

const HEADER = /^\s*"?run"?\s*[;,]\s*"?c[oó]digo[\s_]*curso"?\s*$/i;

export function parseActionUpload(bytes: Uint8Array, ctx: { learners: readonly UploadLearner[]; settings: CourseSettings }): UploadResult {
  const fail = (message: string, extra: Partial<UploadResult> = {}): UploadResult => ({ fileErrors: [message], rows: [], separator: null, encoding: null, valid: false, ...extra });
  if (bytes.length > MAX_UPLOAD_BYTES) return fail(`El archivo pesa ${(bytes.length / 1024 / 1024).toFixed(1)} MB; el máximo es 1 MB.`);
  const decoded = decodeUpload(bytes);
  if (!decoded.ok) return fail(decoded.message);
  const lines = decoded.text.split(/\r\n|\n|\r/).map((text, i) => ({ text, line: i + 1 })).filter((l) => l.text.trim() !== '');
  if (lines.length === 0) return fail('El archivo no tiene filas.', { encoding: decoded.encoding });
  const first = lines[0]!.text;
  const separator: ';' | ',' | null = first.includes(';') ? ';' : first.includes(',') ? ',' : null;
  if (!separator) return fail('No se reconoce el separador: cada fila debe ser «RUN;CodigoCurso» (con punto y coma o coma).', { encoding: decoded.encoding });
  const dataLines = HEADER.test(first) ? lines.slice(1) : lines;
  if (dataLines.length === 0) return fail('El archivo solo tiene la fila de títulos.', { encoding: decoded.encoding, separator });
  if (dataLines.length > MAX_UPLOAD_ROWS) return fail(`El archivo tiene ${dataLines.length} filas; el máximo es ${MAX_UPLOAD_ROWS}. Divídalo en varios archivos.`, { encoding: decoded.encoding, separator });

  const byRun = new Map(ctx.learners.map((l) => [l.run, l]));
  const seenRun = new Map<string, number>();
  const seenSub = new Map<string, number>();
  const { settings } = ctx;
  const rows = dataLines.map(({ text, line }): UploadRow => {
    const cells = splitLine(text, separator);
    const errors: string[] = [];
    const [rawRun = '', rawCode = ''] = cells;
    const row: UploadRow = { line, run: rawRun.slice(0, 40), code: rawCode.slice(0, 60), name: null, errors, result: null, effect: null };
    if (cells.length !== 2) {
      errors.push(`tiene ${cells.length} columna(s); se esperan 2: RUN y CodigoCurso separados por «${separator}»`);
      return row;
    }
    const run = parseRun(rawRun);
    let learner: UploadLearner | undefined;
    if (!run.ok) {
      errors.push(
        run.reason === 'check-digit' ? `el dígito verificador del RUN «${row.run}» no coincide`
          : run.reason === 'missing' ? 'falta el RUN'
            : `el RUN «${row.run}» no tiene formato válido (ej.: 12345678-5)`,
      );
    } else {
      const earlier = seenRun.get(run.run);
      if (earlier !== undefined) errors.push(`el RUN ${run.run} está repetido (ya aparece en la línea ${earlier})`);
      else seenRun.set(run.run, line);
      learner = byRun.get(run.run);
      if (!learner) errors.push(`el RUN ${run.run} no está en la lista de participantes del curso`);
      else {
        row.name = learner.name;
        const earlierSub = seenSub.get(learner.sub);
        if (earlierSub !== undefined && earlier === undefined) errors.push(`este estudiante ya aparece en la línea ${earlierSub}`);
        seenSub.set(learner.sub, line);
      }
    }
    const code = rawCode;
    let action: SenceAction | null = null;
    let exempt = false;
    if (code.toUpperCase() === EXEMPT_CODE) {
      exempt = true;
    } else if (code !== settings.codigoCurso) {
      const problem = codigoCursoProblem(code, settings.lineaCapacitacion, settings.environment);
      if (problem) errors.push(problem === 'falta el código de la acción (CodigoCurso)' ? problem : `CodigoCurso «${row.code}»: ${problem}`);
      else action = { codigoCurso: code, codSence: settings.codSence, lineaCapacitacion: settings.lineaCapacitacion };
    }
    if (errors.length === 0 && learner && run.ok) {
      row.result = { sub: learner.sub, action, exempt, run: run.run };
      row.effect = exempt ? 'exento (no registra en SENCE)' : action ? `acción ${action.codigoCurso}` : 'acción del curso';
    }
    return row;
  });
  return { fileErrors: [], rows, separator, encoding: decoded.encoding, valid: rows.every((r) => r.errors.length === 0) };
}

/** The records to store for a valid upload. */
export function enrollmentsFromUpload(result: UploadResult, course: LearnerEnrollment['course'], now: Date): LearnerEnrollment[] {
  if (!result.valid) return [];
  return result.rows.flatMap((r) => (r.result ? [{ course, sub: r.result.sub, run: r.result.run, action: r.result.action, exempt: r.result.exempt, updatedAt: now }] : []));
}
