/** The page that sends the learner's browser to SENCE (IniciarSesion / CerrarSesion) in the SENCE window. */
import type { Response } from 'express';
import type { AutoPostForm } from '../sence/rce-form';
import type { AttemptPhase, SenceEnvironment } from '../domain/types';

const TEXTS: Record<AttemptPhase, { title: string; lead: string }> = {
  start: { title: 'Abriendo tu sesión en SENCE', lead: 'Te estamos llevando a SENCE para registrar el inicio de tu asistencia.' },
  close: { title: 'Cerrando tu sesión en SENCE', lead: 'Te estamos llevando a SENCE para registrar el cierre de tu asistencia.' },
};

export function renderSenceRedirect(res: Response, phase: AttemptPhase, trip: { form: AutoPostForm; session: { environment: SenceEnvironment } }): void {
  res.set('Cache-Control', 'no-store').render('sence-redirect', { ...TEXTS[phase], form: trip.form, environment: trip.session.environment });
}
