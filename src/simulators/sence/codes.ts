/**
 * GlosaError codes emitted by the emulator, with short Spanish paraphrases of the manual's
 * (v1.1.6, Anexo 2) meanings. Shown only on the emulator's own pages; the callbacks carry the code only.
 */
export const GLOSA_DESCRIPTIONS: Readonly<Record<string, string>> = {
  '200': 'Falta un parámetro obligatorio, está vacío o su nombre está mal escrito.',
  '201': 'UrlRetoma y/o UrlError vienen vacías.',
  '202': 'UrlRetoma tiene un formato incorrecto.',
  '203': 'UrlError tiene un formato incorrecto.',
  '204': 'CodSence tiene menos de 10 caracteres o no es válido.',
  '205': 'CodigoCurso tiene menos de 7 caracteres o no es válido.',
  '206': 'La línea de capacitación no es válida.',
  '207': 'RunAlumno tiene un formato incorrecto o un dígito verificador erróneo.',
  '208': 'El RUN del alumno no está autorizado para este curso.',
  '209': 'RutOtec tiene un formato incorrecto o un dígito verificador erróneo.',
  '211': 'El token no pertenece a esta OTEC.',
  '212': 'El token no está vigente.',
  '300': 'Error interno no clasificado.',
  '301': 'No se pudo registrar el inicio o cierre de sesión.',
  '302': 'No se pudieron validar los datos del organismo.',
  '303': 'El token no existe o tiene un formato incorrecto.',
  '304': 'No se pudieron verificar los datos enviados.',
  '305': 'No se pudo registrar la información.',
  '306': 'El código del curso (acción) no corresponde al código SENCE.',
  '307': 'El código del curso no es de modalidad e-learning.',
  '308': 'El código del curso no pertenece a esta OTEC.',
  '309': 'La fecha actual está fuera de las fechas de ejecución comunicadas.',
  '310': 'El curso está en estado Terminado o Anulado.',
  '311': 'El RUN ingresado en ClaveÚnica no es el RunAlumno enviado por la OTEC.',
  '312': 'No se pudo completar la autenticación con ClaveÚnica.',
  '313': 'La URL de cierre de sesión es incorrecta.',
};

/** "211;204" -> "211: …; 204: …" for human-readable pages. */
export function describeGlosa(glosa: string): string {
  return glosa
    .split(';')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .map((c) => `${c}: ${(Object.hasOwn(GLOSA_DESCRIPTIONS, c) ? GLOSA_DESCRIPTIONS[c] : undefined) ?? 'código desconocido'}`)
    .join(' ');
}
