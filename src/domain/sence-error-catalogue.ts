/**
 * SENCE's GlosaError codes (REFERENCE §4, manual v1.1.6 Anexo 2, plus the obsolete 100/210), with
 * a Spanish description and a practical step for the learner (the USECAP error page shows
 * "Numero Error / Descripcion / Solucion") and a hint for OTEC staff.
 */

export interface SenceErrorDescription {
  code: string;
  known: boolean;
  /** Spanish, for the learner: what happened. */
  description: string;
  /** Spanish, for the learner: what to do now. */
  solution: string;
  /** For OTEC staff; may be technical. */
  staffHint: string;
  /** True when, received on CLOSE, the code means the SENCE session no longer exists. */
  sessionGone: boolean;
}

type Entry = Omit<SenceErrorDescription, 'code' | 'known' | 'sessionGone'> & { sessionGone?: boolean };

const CLAVE_UNICA_URL = 'https://claveunica.gob.cl/';

/** For codes the learner cannot fix: a configuration problem on the OTEC side. */
function askOtec(code: string): string {
  return `Esto no depende de ti. Avísale a tu OTEC o a tu relator y diles que SENCE mostró el error ${code}, para que revisen la configuración del curso. Luego vuelve a intentarlo.`;
}

const SESSION_GONE_SOLUTION =
  'Si estabas cerrando tu sesión, SENCE ya no la tiene abierta: abre una nueva sesión para seguir registrando asistencia. Si estabas abriéndola, vuelve a intentarlo más tarde y, si se repite, avísale a tu OTEC con el número de error.';

// RCE M6 Anexo 2 (+ M3 for 100 and 210): every code SENCE is known to send in GlosaError.
const CATALOGUE: Record<string, Entry> = {
  // RCE M3 Anexo 2: 100 (obsolete since v1.1.5, Clave SENCE era).
  '100': {
    description: 'Hubo un problema con tu clave al ingresar a SENCE.',
    solution: `Vuelve a intentarlo con tu ClaveÚnica. Si no la recuerdas, recupérala en ${CLAVE_UNICA_URL} y luego abre la sesión otra vez.`,
    staffHint: 'Código obsoleto de la era Clave SENCE (manual v1.1.3: contraseña incorrecta o sin Clave SENCE). Hoy se ingresa con ClaveÚnica; si se repite, repórtelo a SENCE.',
  },
  // RCE M6 Anexo 2: 200 mandatory parameter empty, whitespace-only or misspelled.
  '200': {
    description: 'SENCE no recibió todos los datos necesarios para registrar tu asistencia.',
    solution: askOtec('200'),
    staffHint: 'Falta un parámetro obligatorio, viene vacío o con el nombre mal escrito (RutOtec, Token, CodSence, CodigoCurso, LineaCapacitacion, RunAlumno, IdSesionAlumno, UrlRetoma, UrlError). Revise la configuración del curso y de la OTEC.',
  },
  // RCE M6 Anexo 2: 201 UrlRetoma and/or UrlError empty.
  '201': {
    description: 'SENCE no recibió la dirección para volver a la plataforma del curso.',
    solution: askOtec('201'),
    staffHint: 'UrlRetoma y/o UrlError llegaron vacías a SENCE (en inicio o cierre). Revise PUBLIC_URL de la herramienta.',
  },
  // RCE M6 Anexo 2: 202 UrlRetoma malformed (JR1/JR2 swap 202/203; the manual wins).
  '202': {
    description: 'SENCE no aceptó la dirección para volver a la plataforma del curso después de un ingreso correcto.',
    solution: askOtec('202'),
    staffHint: 'UrlRetoma mal formada: debe ser absoluta, de 100 caracteres o menos y bien codificada. Revise PUBLIC_URL.',
  },
  // RCE M6 Anexo 2: 203 UrlError malformed.
  '203': {
    description: 'SENCE no aceptó la dirección para volver a la plataforma del curso cuando hay un error.',
    solution: askOtec('203'),
    staffHint: 'UrlError mal formada: debe ser absoluta, de 100 caracteres o menos y bien codificada. Revise PUBLIC_URL.',
  },
  // RCE M6 Anexo 2: 204 CodSence shorter than 10 or invalid.
  '204': {
    description: 'El código SENCE configurado para este curso no es válido.',
    solution: askOtec('204'),
    staffHint: 'CodSence: 10 dígitos del código SENCE del curso (orden de compra); en blanco para la línea 1; "-1" solo en el ambiente de prueba.',
  },
  // RCE M6 Anexo 2: 205 CodigoCurso shorter than 7 or invalid.
  '205': {
    description: 'El código de la acción de capacitación configurado para este curso no es válido.',
    solution: askOtec('205'),
    staffHint: 'CodigoCurso (ID de acción / Folio / RUS): mínimo 7 caracteres salvo la línea 6 (FPT); "-1" solo en el ambiente de prueba.',
  },
  // RCE M6 Anexo 2: 206 training line invalid.
  '206': {
    description: 'La línea de capacitación configurada para este curso no es válida.',
    solution: askOtec('206'),
    staffHint: 'LineaCapacitacion debe ser 1 (Programas Sociales), 3 (Franquicia Tributaria) o 6 (FPT), según el programa del curso.',
  },
  // RCE M6 Anexo 2: 207 RunAlumno malformed or wrong check digit.
  '207': {
    description: 'Tu RUN no tiene el formato correcto o su dígito verificador no coincide.',
    solution: 'Revisa que el RUN de tu perfil en la plataforma sea el tuyo (por ejemplo 12345678-5). Si está mal, pide a tu OTEC que lo corrija y vuelve a intentarlo.',
    staffHint: 'RunAlumno mal formado o con DV incorrecto. Corrija el RUN del perfil del alumno en el LMS.',
  },
  // RCE M6 Anexo 2: 208 RUN not authorised for the course (not on the action's roster).
  '208': {
    description: 'Tu RUN no está autorizado en SENCE para este curso.',
    solution: 'Puede que aún no estés en la nómina del curso o que estés inscrito en otra acción. Avísale a tu OTEC o a tu empresa, indicando tu RUN, para que lo revisen.',
    staffHint: 'El RUN no está en la nómina de la acción (CodigoCurso). Verifique con la OTIC/empresa y que el alumno esté asociado al ID de acción correcto.',
  },
  // RCE M6 Anexo 2: 209 RutOtec malformed or wrong check digit.
  '209': {
    description: 'Los datos de la OTEC configurados para este curso no son válidos.',
    solution: askOtec('209'),
    staffHint: 'RutOtec mal formado o con DV incorrecto: formato xxxxxxxx-x, sin puntos. Revise la OTEC registrada.',
  },
  // RCE M3 Anexo 2: 210 (obsolete) 3-minute limit to enter RUT + password.
  '210': {
    description: 'Se acabó el tiempo para ingresar tus datos en SENCE.',
    solution: 'Vuelve a abrir la sesión e ingresa tus datos sin demora.',
    staffHint: 'Código obsoleto de la era Clave SENCE (límite de 3 minutos). Si se repite, repórtelo a SENCE.',
  },
  // RCE M6 Anexo 2: 211 token does not belong to this OTEC.
  '211': {
    description: 'La credencial de la OTEC configurada para este curso no corresponde.',
    solution: askOtec('211'),
    staffHint: 'El Token no pertenece al RutOtec enviado: cada OTEC debe usar su propio token (revise qué OTEC tiene asignada el curso).',
  },
  // RCE M6 Anexo 2: 212 token not current (revoked).
  '212': {
    description: 'La credencial de la OTEC configurada para este curso ya no está vigente.',
    solution: askOtec('212'),
    staffHint: 'Token revocado: genere uno nuevo en https://sistemas.sence.cl/rts y actualícelo en la OTEC.',
  },
  // RCE M6 Anexo 2: 300 unclassified internal SENCE error.
  '300': {
    description: 'SENCE tuvo un problema interno y no pudo registrar tu asistencia.',
    solution: 'Espera unos minutos y vuelve a intentarlo. Si el error se repite, avísale a tu OTEC con el número de error y la hora.',
    staffHint: 'Error interno no clasificado de SENCE. Repórtelo a SENCE con los parámetros enviados, la hora y el RUN.',
  },
  // RCE M6 Anexo 2: 301 could not register start/close; observed at close for sessions > ~3 h (JR2 514e207).
  '301': {
    description: 'SENCE no pudo registrar el inicio o el cierre de tu sesión.',
    solution: SESSION_GONE_SOLUTION,
    staffHint: 'Al inicio: revise LineaCapacitacion y CodigoCurso. Al cierre: se observa cuando la sesión superó ~3 h o ya estaba cerrada; se trata como sesión terminada por SENCE.',
    sessionGone: true,
  },
  // RCE M6 Anexo 2: 302 could not validate the OTEC data.
  '302': {
    description: 'SENCE no pudo validar los datos de la OTEC de este curso.',
    solution: askOtec('302'),
    staffHint: 'SENCE no validó los datos del organismo. Repórtelo a SENCE con RutOtec, hora y parámetros enviados.',
  },
  // RCE M6 Anexo 2: 303 token does not exist or bad format.
  '303': {
    description: 'La credencial de la OTEC configurada para este curso no existe.',
    solution: askOtec('303'),
    staffHint: 'Token inexistente o mal formado: pegue el token completo de 36 caracteres (en mayúsculas) tal como aparece en RTS.',
  },
  // RCE M6 Anexo 2: 304 data sent could not be verified; JR2 treats it at close as "session gone".
  '304': {
    description: 'SENCE no pudo verificar los datos de tu sesión.',
    solution: SESSION_GONE_SOLUTION,
    staffHint: 'Repórtelo a SENCE con los parámetros de inicio o cierre. Al cierre se trata como sesión inexistente en SENCE.',
    sessionGone: true,
  },
  // RCE M6 Anexo 2: 305 information could not be registered.
  '305': {
    description: 'SENCE no pudo guardar la información de tu sesión.',
    solution: SESSION_GONE_SOLUTION,
    staffHint: 'Repórtelo a SENCE con los parámetros de inicio o cierre. Al cierre se trata como sesión inexistente en SENCE.',
    sessionGone: true,
  },
  // RCE M6 Anexo 2: 306 action code does not match the SENCE course code.
  '306': {
    description: 'El código de la acción de capacitación no corresponde al código SENCE del curso.',
    solution: askOtec('306'),
    staffHint: 'CodigoCurso (acción) no corresponde a CodSence: asocie cada ID de acción con el código SENCE de su propio curso.',
  },
  // RCE M6 Anexo 2: 307 course is not e-learning.
  '307': {
    description: 'Este curso no está registrado en SENCE como curso e-learning.',
    solution: askOtec('307'),
    staffHint: 'La acción debe estar comunicada en modalidad e-learning; revíselo con la OTIC o la empresa.',
  },
  // RCE M6 Anexo 2: 308 course does not belong to this OTEC RUT.
  '308': {
    description: 'El curso no pertenece a la OTEC configurada.',
    solution: askOtec('308'),
    staffHint: 'El código del curso/acción no pertenece al RutOtec: revise la OTEC y el token asignados y el ID de acción (error típico: ID de acción equivocado).',
  },
  // RCE M6 Anexo 2: 309 today is outside the communicated execution dates.
  '309': {
    description: 'Hoy no está dentro de las fechas del curso informadas a SENCE.',
    solution: 'Solo puedes registrar asistencia entre la fecha de inicio y la de término del curso. Si crees que las fechas están mal, avísale a tu OTEC.',
    staffHint: 'Fecha fuera del período de ejecución comunicado. Pida a la OTIC o empresa que rectifique las fechas de la acción.',
  },
  // RCE M6 Anexo 2: 310 course finished or annulled.
  '310': {
    description: 'El curso está terminado o anulado en SENCE.',
    solution: 'Ya no se puede registrar asistencia en este curso. Si crees que es un error, consulta a tu OTEC.',
    staffHint: 'Curso en estado Terminado o Anulado en SENCE. Al cierre se trata como sesión terminada. Revíselo con la OTIC o empresa.',
    sessionGone: true,
  },
  // RCE M6 Anexo 2: 311 RUN typed in ClaveÚnica differs from RunAlumno.
  '311': {
    description: 'El RUN con que ingresaste en ClaveÚnica no es el mismo RUN registrado en tu curso.',
    solution: 'Ingresa con tu propia ClaveÚnica. Si el RUN de tu perfil en la plataforma no es el tuyo, pide a tu OTEC que lo corrija.',
    staffHint: 'El RUN ingresado en ClaveÚnica no coincide con RunAlumno. Revise el RUN del perfil del alumno en el LMS.',
  },
  // RCE M6 Anexo 2: 312 ClaveÚnica authentication could not be completed.
  '312': {
    description: 'No se pudo completar tu ingreso con ClaveÚnica.',
    solution: `Vuelve a intentarlo. Si no recuerdas tu ClaveÚnica, recupérala en ${CLAVE_UNICA_URL} y luego abre la sesión otra vez.`,
    staffHint: 'Falló la autenticación ClaveÚnica del alumno. Si se repite con varios alumnos, repórtelo a SENCE.',
  },
  // RCE M6 Anexo 2: 313 close-session URL incorrect (exact trigger unconfirmed).
  '313': {
    description: 'SENCE no aceptó la dirección para volver a la plataforma del curso al cerrar tu sesión.',
    solution: askOtec('313'),
    staffHint: 'URL de cierre incorrecta (causa exacta no confirmada): probablemente UrlRetoma/UrlError del cierre faltan o son inválidas. Revise PUBLIC_URL.',
  },
};

/** Every code the catalogue knows, in ascending order. */
export const SENCE_ERROR_CODES: readonly string[] = Object.freeze(Object.keys(CATALOGUE).sort());

/** RCE M6 §3: GlosaError is parsed as text and split on ';' (e.g. "211;204"). */
export function parseGlosaError(raw: string | null | undefined): string[] {
  if (raw === null || raw === undefined) return [];
  return raw
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

export function describeSenceError(code: string): SenceErrorDescription {
  const trimmed = code.trim();
  const entry = Object.prototype.hasOwnProperty.call(CATALOGUE, trimmed) ? CATALOGUE[trimmed] : undefined;
  if (entry) {
    return {
      code: trimmed,
      known: true,
      description: entry.description,
      solution: entry.solution,
      staffHint: entry.staffHint,
      sessionGone: entry.sessionGone === true,
    };
  }
  // REFERENCE §4 notes: codes have been added without notice; always keep a fallback.
  return {
    code: trimmed,
    known: false,
    description: `SENCE respondió con el error número ${trimmed}, que no tenemos descrito.`,
    solution: `Vuelve a intentarlo en unos minutos. Si se repite, avísale a tu OTEC indicando el error número ${trimmed}.`,
    staffHint: `Código GlosaError ${trimmed} no está en el manual v1.1.6. Consulte a SENCE y revise el registro de respuestas de la sesión.`,
    sessionGone: false,
  };
}

/** One description per code of a GlosaError; a single fallback entry when it is empty. */
export function describeGlosaError(raw: string | null | undefined): SenceErrorDescription[] {
  const codes = parseGlosaError(raw);
  if (codes.length === 0) {
    return [
      {
        code: '',
        known: false,
        description: 'SENCE informó un error, pero no indicó cuál.',
        solution: 'Vuelve a intentarlo en unos minutos. Si se repite, avísale a tu OTEC indicando la hora en que ocurrió.',
        staffHint: 'La respuesta de error de SENCE llegó sin GlosaError. Revise el registro de respuestas de la sesión.',
        sessionGone: false,
      },
    ];
  }
  return codes.map(describeSenceError);
}
