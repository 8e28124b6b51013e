/**
 * Spanish words for everything the audit log and the session records store as codes: one label for
 * each audit event code (the Record type makes a missing one a compile error), session states, and
 * the English `reason` texts the tool records ("start success", "close error 211"). No code is ever
 * shown raw to staff.
 */
import type { AuditEntry, AuditEvent, SessionState } from '../domain/types';

export const EVENT_LABELS: Readonly<Record<AuditEvent, string>> = Object.freeze({
  'attempt-created': 'Envío a SENCE',
  'callback-accepted': 'Respuesta de SENCE registrada',
  'callback-rejected': 'Respuesta rechazada',
  'session-expired': 'Sesión vencida',
  'session-abandoned': 'Inicio abandonado',
  'settings-saved': 'Configuración guardada',
  'settings-rejected': 'Configuración rechazada',
  'otec-saved': 'OTEC guardado',
  'access-denied': 'Acceso denegado',
  'launch-rejected': 'Ingreso rechazado',
  'enrollment-saved': 'Acción o exención asignada',
  'enrollment-rejected': 'Carga de acciones rechazada',
  'alert-digest-sent': 'Resumen de alertas enviado',
  'alert-digest-failed': 'Resumen de alertas no enviado',
  'otec-removed': 'OTEC quitado de la plataforma',
  'otec-refused': 'Cambio de OTEC rechazado',
  'registration-refused': 'Registro de plataforma rechazado',
  'registration-completed': 'Plataforma registrada',
  'rate-limited': 'Demasiadas solicitudes (limitadas)',
});

export function eventLabel(event: string): string {
  return (EVENT_LABELS as Record<string, string>)[event] ?? 'Otro evento';
}

export const SESSION_STATE_LABELS: Readonly<Record<SessionState, string>> = Object.freeze({
  starting: 'iniciando (esperando a SENCE)',
  open: 'abierta',
  closing: 'cerrando (esperando a SENCE)',
  closed: 'cerrada',
  'start-failed': 'inicio con error',
  abandoned: 'inicio abandonado',
  expired: 'vencida (tiempo perdido)',
  'ended-by-sence': 'terminada por SENCE',
});

export function sessionStateLabel(state: string): string {
  return (SESSION_STATE_LABELS as Record<string, string>)[state] ?? 'estado desconocido';
}

const PHASE: Record<string, string> = { start: 'inicio', close: 'cierre' };
const OUTCOME: Record<string, string> = { success: 'aceptado', error: 'con error' };

/** Steps of the callback verification chain (src/sence/verify-callback.ts) in staff words. */
const STEP_LABELS: Record<string, string> = {
  'callback-token': 'enlace de respuesta desconocido o token incorrecto',
  session: 'la sesión no existe',
  'attempt-session': 'el intento no corresponde a la sesión',
  'attempt-unused': 'respuesta repetida',
  'attempt-not-expired': 'respuesta fuera de plazo',
  'session-state': 'la sesión no esperaba esta respuesta',
  'session-version': 'la sesión cambió al mismo tiempo',
  'id-sesion-alumno': 'IdSesionAlumno no coincide',
  'run-alumno': 'RunAlumno no coincide',
  'cod-sence': 'CodSence no coincide',
  'codigo-curso': 'CodigoCurso no coincide',
  outcome: 'resultado no reconocido',
  'body-shape': 'cuerpo con formato inválido',
  'duplicate-field': 'campos repetidos',
  'field-length': 'campos demasiado largos',
  'field-name': 'nombres de campo inválidos',
  'field-type': 'campos con tipo inválido',
  'too-many-fields': 'demasiados campos',
};

/** A Spanish sentence for an audit entry's reason. */
export function describeAuditReason(entry: Pick<AuditEntry, 'event' | 'reason' | 'details'>): string {
  const reason = entry.reason ?? '';
  if (entry.event === 'callback-accepted') {
    const m = /^(start|close) (success|error)(?: (.+))?$/.exec(reason);
    if (m) return `${PHASE[m[1] ?? ''] ?? m[1]} ${OUTCOME[m[2] ?? ''] ?? m[2]}${m[3] ? ` (códigos ${m[3].replace(/;/g, ', ')})` : ''}`;
  }
  if (entry.event === 'attempt-created') {
    const m = /^(start|close) form sent to SENCE \((test|production)\)$/.exec(reason);
    if (m) return `formulario de ${PHASE[m[1] ?? ''] ?? m[1]} enviado a SENCE (ambiente ${m[2] === 'production' ? 'de producción' : 'de pruebas'})`;
  }
  if (entry.event === 'callback-rejected') {
    const step = typeof entry.details?.step === 'string' ? entry.details.step : reason.split(':')[0] ?? '';
    return `rechazada: ${STEP_LABELS[step] ?? 'no pasó la verificación'}`;
  }
  if (entry.event === 'access-denied') {
    if (/^learner tried/.test(reason)) return 'un estudiante intentó abrir una página del equipo docente';
    if (/window key/.test(reason)) return 'botón de la ventana SENCE con una clave que no corresponde';
  }
  if (entry.event === 'session-expired' || entry.event === 'session-abandoned' || entry.event === 'enrollment-saved' || entry.event === 'enrollment-rejected' || entry.event.startsWith('alert-digest')) {
    return reason; // these reasons are written in Spanish
  }
  if (entry.event === 'settings-saved') return 'configuración SENCE del curso guardada';
  if (entry.event === 'settings-rejected') return 'configuración con errores: no se guardó nada';
  if (entry.event === 'otec-saved') return 'OTEC agregado o actualizado';
  return 'ver detalle técnico';
}

/**
 * Whether an audit entry carries the "origen no verificado" warning (issue #20 §5): only a callback
 * whose Origin or Referer named a site that is not SENCE's (`originVerified === false`, see
 * src/sence/callback-origin.ts). A callback with none (`Origin: null`) is recorded without it. The
 * audit page, the report's row and the learner's page show it with one partial,
 * views/partials/origin-warning.ejs.
 */
export function hasOriginWarning(entry: Pick<AuditEntry, 'details'>): boolean {
  return (entry.details as { originVerified?: unknown } | null | undefined)?.originVerified === false;
}
