/**
 * The RUN of a roster member, read the way the launch reads it (issue #20). The launch
 * (src/lti/identity.ts) takes the custom parameter `rut` first, then `lis.person_sourcedid`. In the
 * LMS's roster (NRPS) those two stand for the username (`ext_user_username`: what the tool's own
 * `rut=$User.username` substitutes) and the ID number (`lis_person_sourcedid`). Which one the
 * course's `rut` names is the course's choice: the learners who already launched show it (their
 * stored RUN matches one field or the other); with no such evidence the recommended
 * `rut=$User.username` is assumed. Pure.
 */
import type { Learner } from './types';
import type { RosterMember } from './roster';
import { parseRun, type RunProblem } from './rut';

export type RosterRunField = 'username' | 'sourcedId';

export interface RosterRunCandidate {
  field: RosterRunField;
  raw: string | null;
  problem: RunProblem | null;
}

export type RosterRun = { run: string; field: RosterRunField; candidates: RosterRunCandidate[] } | { run: null; field: null; candidates: RosterRunCandidate[] };

/**
 * The roster fields that stand for the launch's sources, in the launch's order: the username (when
 * the course's `rut` is the username), then the ID number.
 */
export function rosterRunFields(customIsUsername: boolean): RosterRunField[] {
  return customIsUsername ? ['username', 'sourcedId'] : ['sourcedId'];
}

function rawOf(member: RosterMember, field: RosterRunField): string | null {
  return (field === 'username' ? member.username : member.sourcedId) ?? null;
}

/** The first field (in `fields`' order) holding a valid RUN; else every field looked at, with what was wrong. */
export function rosterRun(member: RosterMember, fields: readonly RosterRunField[]): RosterRun {
  const candidates: RosterRunCandidate[] = [];
  for (const field of fields) {
    const raw = rawOf(member, field);
    const parsed = parseRun(raw);
    if (parsed.ok) return { run: parsed.run, field, candidates: [...candidates, { field, raw, problem: null }] };
    candidates.push({ field, raw, problem: parsed.reason });
  }
  return { run: null, field: null, candidates };
}

/**
 * Whether the course's custom parameter `rut` is the username, judged from the learners who
 * launched: a RUN taken from `rut` that equals the member's username (and not only the ID number)
 * says yes; one equal to the ID number only, or a RUN taken from `lis.person_sourcedid` while the
 * username holds a valid RUN (so `rut` did not give it), says no. More yes than no, or no evidence:
 * yes (the tool registers itself with `rut=$User.username`).
 */
export function customParameterIsUsername(launched: ReadonlyArray<{ learner: Pick<Learner, 'run' | 'runSource'>; member: RosterMember }>): boolean {
  let yes = 0;
  let no = 0;
  for (const { learner, member } of launched) {
    if (!learner.run) continue;
    const username = parseRun(member.username ?? null);
    const sourced = parseRun(member.sourcedId);
    const isUsername = username.ok && username.run === learner.run;
    const isSourced = sourced.ok && sourced.run === learner.run;
    if (learner.runSource === 'custom') {
      if (isUsername && !isSourced) yes += 1;
      else if (isSourced && !isUsername) no += 1;
    } else if (learner.runSource === 'lis' && username.ok) {
      no += 1;
    }
  }
  return yes >= no;
}

const FIELD_TEXT: Record<RosterRunField, string> = {
  username: 'su nombre de usuario',
  sourcedId: 'su «Número de ID» (en Canvas, SIS ID)',
};

function quoted(raw: string | null): string {
  const value = (raw ?? '').trim();
  return `«${value.length > 40 ? `${value.slice(0, 40)}…` : value}»`;
}

function candidateText(c: RosterRunCandidate): string {
  switch (c.problem) {
    case 'format':
      return `${FIELD_TEXT[c.field]} (${quoted(c.raw)}) no es un RUN válido`;
    case 'check-digit':
      return `${FIELD_TEXT[c.field]} (${quoted(c.raw)}) tiene un dígito verificador que no coincide`;
    case 'placeholder':
      return `${FIELD_TEXT[c.field]} es un texto sin reemplazar (${quoted(c.raw)})`;
    default:
      return `${FIELD_TEXT[c.field]} viene vacío`;
  }
}

export interface RunFixInput {
  /** The learner opened the tool at least once (the launch gave no valid RUN, or there would be one). */
  launched: boolean;
  /** The LMS's roster could be read (NRPS). */
  rosterAvailable: boolean;
  /** What the roster says of this learner; null when the learner is not in it. */
  roster: RosterRun | null;
}

/** What is actually missing when the tool knows no RUN for a learner, and what staff can do (Spanish, usted). */
export function runFixText(input: RunFixInput): string {
  const atLaunch = input.launched ? 'Al entrar a la herramienta, el LMS no envió un RUN válido (revise el parámetro personalizado rut). ' : 'No tiene ingresos registrados en la herramienta. ';
  if (!input.rosterAvailable) {
    return `${atLaunch}La lista de participantes del LMS no está disponible, así que no se pudo buscar su RUN en ella.`;
  }
  if (!input.roster) {
    return `${atLaunch}No aparece en la lista de participantes del LMS.`;
  }
  const { candidates } = input.roster;
  const allMissing = candidates.every((c) => c.problem === 'missing');
  if (allMissing) {
    const which = candidates.map((c) => FIELD_TEXT[c.field]).join(' ni ');
    const usernameHint = candidates.some((c) => c.field === 'username')
      ? ' Moodle envía el nombre de usuario en la lista solo si la herramienta puede compartir el nombre de los participantes («Compartir el nombre del usuario con la herramienta»).'
      : '';
    return `${atLaunch}La lista de participantes del LMS no trae ${which}: complete el «Número de ID» del usuario en el LMS (o use su RUN como nombre de usuario).${usernameHint}`;
  }
  const parts = candidates.map(candidateText);
  return `${atLaunch}En la lista de participantes del LMS, ${parts.join(' y ')}: corrija el RUN del usuario en el LMS (sin puntos, con guion y dígito verificador, por ejemplo 12345678-5).`;
}
