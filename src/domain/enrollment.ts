/**
 * Per-learner SENCE action and exempt marks. One LMS course may hold learners of several SENCE
 * actions (CodigoCurso, with their line and CodSence); the course settings give the default action.
 * Exempt learners (becarios, not financed by SENCE) register nothing in SENCE. Pure.
 */
import type { CourseKey, CourseSettings, TrainingLine } from './types';

export interface SenceAction {
  codigoCurso: string;
  codSence: string;
  lineaCapacitacion: TrainingLine;
}

/** What staff decided for one learner (LMS user) of a course. */
export interface LearnerEnrollment {
  course: CourseKey;
  /** LMS user id (`sub` of the launch, `user_id` of NRPS). */
  sub: string;
  /** The RUN the decision was made for (upload), for the record. */
  run: string | null;
  /** Null: the course default applies. */
  action: SenceAction | null;
  exempt: boolean;
  updatedAt: Date;
}

export type ActionSource = 'learner' | 'course';

/** The action a learner's sessions are sent with: their own, else the course default; null when none. */
export function effectiveAction(settings: CourseSettings | null, enrollment: LearnerEnrollment | null): { action: SenceAction; source: ActionSource } | null {
  if (enrollment?.action) return { action: enrollment.action, source: 'learner' };
  if (!settings) return null;
  return { action: defaultAction(settings), source: 'course' };
}

export function defaultAction(settings: CourseSettings): SenceAction {
  return { codigoCurso: settings.codigoCurso, codSence: settings.codSence, lineaCapacitacion: settings.lineaCapacitacion };
}

/** Settings with the learner's action in place of the course default (what the start form carries). */
export function settingsForLearner(settings: CourseSettings, enrollment: LearnerEnrollment | null): CourseSettings {
  const action = enrollment?.action;
  if (!action) return settings;
  return { ...settings, codigoCurso: action.codigoCurso, codSence: action.codSence, lineaCapacitacion: action.lineaCapacitacion };
}

/** Format of a CodigoCurso (RCE M6 §2.1; REFERENCE §7.2): 7–50 characters (line 6 may be shorter), '-1' only in test. */
export function codigoCursoProblem(code: string, line: TrainingLine, environment: 'test' | 'production'): string | null {
  if (code === '') return 'falta el código de la acción (CodigoCurso)';
  if (code === '-1') return environment === 'test' ? null : 'el código «-1» solo sirve en el ambiente de pruebas';
  if (/[\u0000-\u001f\u007f]/.test(code)) return 'el código tiene caracteres invisibles';
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(code)) return 'el código solo puede tener letras, números, guiones, puntos y barras';
  const min = line === 6 ? 1 : 7;
  if (code.length < min || code.length > 50) return line === 6 ? 'el código debe tener como máximo 50 caracteres' : 'el código debe tener entre 7 y 50 caracteres';
  return null;
}

/** Format of a CodSence for a line: blank for line 1, 10 digits otherwise ('-1' only in test). */
export function codSenceProblem(code: string, line: TrainingLine, environment: 'test' | 'production'): string | null {
  if (line === 1) return code === '' ? null : 'para la línea 1 el código SENCE debe quedar en blanco';
  if (code === '-1') return environment === 'test' ? null : 'el código SENCE «-1» solo sirve en el ambiente de pruebas';
  return /^\d{10}$/.test(code) ? null : 'el código SENCE debe tener 10 dígitos';
}
