/**
 * The course roster behind the coordinator's report: fetched from the LMS (NRPS) through a
 * RosterSource port, cached in the RosterStore ("actualizado hace N min", refresh on demand), and
 * never a reason for the report to fail — when the LMS is down or slow the last roster kept (or
 * none) is used and the problem is said in Spanish.
 */
import type { CourseKey } from '../domain/types';
import type { RosterMember } from '../domain/roster';
import type { Stores } from '../store/ports';
import { formatSantiagoDateTime } from '../domain/time-format';

/** Where the LMS publishes the course's memberships (from the launch's NRPS claim). */
export interface RosterTarget {
  issuer: string;
  clientId: string;
  membershipsUrl: string | null;
}

export type RosterFailure = 'no-service' | 'unauthorized' | 'refused' | 'timeout' | 'invalid' | 'unreachable' | 'too-large';

export class RosterUnavailableError extends Error {
  constructor(
    readonly failure: RosterFailure,
    readonly status: number | null,
    message: string,
  ) {
    super(message);
    this.name = 'RosterUnavailableError';
  }
}

/** What a RosterSource read: the members, and whether the LMS had more than it reads (cut). */
export interface RosterFetch {
  members: RosterMember[];
  truncated: boolean;
}

/**
 * Port: reads the members of a course from the LMS (every page, up to the source's caps), or throws
 * RosterUnavailableError.
 */
export interface RosterSource {
  fetchMembers(target: RosterTarget): Promise<RosterFetch>;
}

export interface RosterView {
  /** Null when the LMS never gave a roster for this course. */
  members: RosterMember[] | null;
  fetchedAt: Date | null;
  /** Minutes since the roster was fetched (for "actualizado hace N min"). */
  ageMinutes: number | null;
  /** Spanish: why the roster shown is not fresh from the LMS (null when it is). */
  problem: string | null;
  /** Spanish: the roster shown was cut at the tool's cap (issue #19); null when whole. */
  truncatedNotice: string | null;
  failure: { kind: RosterFailure; status: number | null; detail: string } | null;
}

export const ROSTER_MAX_AGE_MINUTES = 10;
/** The byte cap named in the 'too-large' message when the caller gives none (the NRPS source's). */
const ROSTER_MAX_BYTES_DEFAULT = 8 * 1024 * 1024;

function problemText(failure: RosterFailure, status: number | null, timeoutSeconds: number, maxRosterBytes: number): string {
  switch (failure) {
    case 'no-service':
      return 'El LMS no ofrece la lista de participantes del curso (servicio «Names and Roles») en este ingreso.';
    case 'unauthorized':
      return `El LMS rechazó la consulta de la lista de participantes${status ? ` (HTTP ${status})` : ''}: revise que la herramienta tenga permiso para «Names and Roles» en el LMS.`;
    case 'refused':
      return `El LMS no pudo entregar la lista de participantes${status ? ` (HTTP ${status})` : ''}.`;
    case 'timeout':
      return `El LMS tardó más de ${timeoutSeconds} s en entregar la lista de participantes.`;
    case 'invalid':
      return 'El LMS entregó una lista de participantes que no se pudo leer.';
    case 'unreachable':
      return 'No se pudo conectar con el LMS para pedir la lista de participantes.';
    case 'too-large':
      return `El LMS entregó una lista de participantes de más de ${Math.round(maxRosterBytes / 1024 / 1024)} MB en una sola página; la herramienta no lee listas tan grandes.`;
  }
}

export class RosterService {
  private readonly inFlight = new Map<string, Promise<RosterView>>();

  constructor(
    private readonly stores: Stores,
    private readonly source: RosterSource,
    private readonly options: { maxAgeMinutes?: number; timeoutSeconds: number; maxRosterBytes?: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The cached roster when fresh enough, else a new one from the LMS (one request per course at a time). */
  async roster(course: CourseKey, target: RosterTarget, opts: { refresh?: boolean } = {}): Promise<RosterView> {
    const cached = await this.stores.rosters.get(course);
    const maxAgeMs = (this.options.maxAgeMinutes ?? ROSTER_MAX_AGE_MINUTES) * 60_000;
    if (cached && !opts.refresh && this.now().getTime() - cached.fetchedAt.getTime() < maxAgeMs) {
      return this.view(cached.members, cached.fetchedAt, null, cached.truncated === true);
    }
    const key = JSON.stringify([course.issuer, course.clientId, course.contextId]);
    const running = this.inFlight.get(key);
    if (running) return running;
    const work = this.refresh(course, target, cached).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  /** The cached roster only (no LMS call): for background jobs that have no launch. */
  async cached(course: CourseKey): Promise<RosterView> {
    const cached = await this.stores.rosters.get(course);
    return cached ? this.view(cached.members, cached.fetchedAt, null, cached.truncated === true) : this.view(null, null, null, false);
  }

  private async refresh(course: CourseKey, target: RosterTarget, cached: { members: RosterMember[]; fetchedAt: Date; truncated?: boolean } | null): Promise<RosterView> {
    try {
      if (!target.membershipsUrl) throw new RosterUnavailableError('no-service', null, 'no NRPS claim in the launch');
      const { members, truncated } = await this.source.fetchMembers(target);
      const fetchedAt = this.now();
      await this.stores.rosters.save({ course, members, fetchedAt, ...(truncated ? { truncated: true } : {}) });
      return this.view(members, fetchedAt, null, truncated);
    } catch (error) {
      const e = error instanceof RosterUnavailableError ? error : new RosterUnavailableError('unreachable', null, (error as Error).message);
      let problem = problemText(e.failure, e.status, this.options.timeoutSeconds, this.options.maxRosterBytes ?? ROSTER_MAX_BYTES_DEFAULT);
      problem += cached
        ? ` Se muestra la lista guardada el ${formatSantiagoDateTime(cached.fetchedAt)} junto con los registros de la herramienta.`
        : ' Se muestran solo los estudiantes que la herramienta ya conoce (los que abrieron el panel o tienen registros).';
      return this.view(cached?.members ?? null, cached?.fetchedAt ?? null, { kind: e.failure, status: e.status, detail: e.message, problem }, cached?.truncated === true);
    }
  }

  private view(members: RosterMember[] | null, fetchedAt: Date | null, failure: (RosterView['failure'] & { problem: string }) | null, truncated: boolean): RosterView {
    const n = members?.length ?? 0;
    return {
      truncatedNotice: truncated && members
        ? `La plataforma informó más de ${n} participantes; se muestran los primeros ${n} (el máximo que la herramienta lee). Los estudiantes que no están entre ellos aparecen solo si ya tienen registros en la herramienta; sus exportaciones y el resumen diario usan la misma lista.`
        : null,
      members,
      fetchedAt,
      ageMinutes: fetchedAt ? Math.max(0, Math.floor((this.now().getTime() - fetchedAt.getTime()) / 60_000)) : null,
      problem: failure?.problem ?? null,
      failure: failure ? { kind: failure.kind, status: failure.status, detail: failure.detail } : null,
    };
  }
}
