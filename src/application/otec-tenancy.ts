/**
 * Who may use and manage an OTEC (issue #7, finding 4). An OTEC (RUT, name, sealed token) is linked
 * to one or more LMS platforms (issuer, client_id). Course staff of a platform choose only among
 * the OTECs linked to it and never see a token; the platform's LMS administrators (system or
 * institution Administrator role in the signed launch) add OTECs to it, rotate their tokens and
 * unlink them; the operator does everything through `npm run cli -- otec …`. An OTEC registered by
 * another platform cannot be overwritten from here: the operator links it explicitly.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../errors';
import type { Otec, PlatformKey } from '../domain/types';
import type { Stores } from '../store/ports';
import { sealSecret, secretHint } from '../domain/token-crypto';
import type { OtecInput } from '../domain/course-settings';

export function samePlatform(a: PlatformKey, b: PlatformKey): boolean {
  return a.issuer === b.issuer && a.clientId === b.clientId;
}

export function isLinked(otec: Otec, platform: PlatformKey): boolean {
  return (otec.platforms ?? []).some((p) => samePlatform(p, platform));
}

/** The OTECs a platform's courses may use, sorted by name. */
export async function otecsOfPlatform(stores: Stores, platform: PlatformKey): Promise<Otec[]> {
  return (await stores.otecs.list()).filter((o) => isLinked(o, platform));
}

/**
 * One-time migration of OTECs stored before links existed (platforms === null): each is linked to
 * the platforms of the courses whose settings use it, so every configured course keeps working.
 * An OTEC no course uses is left linked to none (the operator links it: `otec link`). Idempotent.
 */
export async function migrateLegacyOtecs(stores: Stores, now: Date): Promise<Array<{ otec: Otec; platforms: PlatformKey[] }>> {
  const migrated: Array<{ otec: Otec; platforms: PlatformKey[] }> = [];
  for (const otec of await stores.otecs.list()) {
    if (otec.platforms !== null) continue;
    const platforms: PlatformKey[] = [];
    for (const c of await stores.courses.listByOtec(otec.id)) {
      if (!platforms.some((p) => samePlatform(p, c))) platforms.push({ issuer: c.issuer, clientId: c.clientId });
    }
    await stores.otecs.save({ ...otec, platforms, updatedAt: now });
    migrated.push({ otec, platforms });
  }
  return migrated;
}

export type AdminOtecResult = { otec: Otec; created: boolean };

/**
 * An LMS administrator of `platform` adds an OTEC to it or updates one linked to it (name, token).
 * A RUT already registered and not linked to this platform is refused (403): only the operator
 * links an existing OTEC to another platform.
 */
export async function saveOtecAsPlatformAdmin(stores: Stores, tokenKey: Buffer, platform: PlatformKey, input: OtecInput, now: Date): Promise<AdminOtecResult> {
  const existing = (await stores.otecs.list()).find((o) => o.rut === input.rut);
  if (existing && !isLinked(existing, platform)) {
    throw new AppError('otec-forbidden', 403, `El OTEC con RUT ${input.rut} ya está registrado en Asistencia SENCE por otra plataforma; no se puede modificar desde aquí.`, {
      staffHint: `Si este OTEC también dicta cursos en esta plataforma, pida al operador de Asistencia SENCE que lo vincule: npm run cli -- otec link --rut ${input.rut} --platform ${platform.issuer} --client-id ${platform.clientId}`,
    });
  }
  // Issue #19: an OTEC linked to several platforms is shared; a rename or a new token from one
  // platform's administrator would change the other platforms' courses. Only the operator changes it.
  if (existing && isSharedOtec(existing)) {
    throw new AppError('otec-forbidden', 403, `El OTEC con RUT ${existing.rut} está vinculado a ${(existing.platforms ?? []).length} plataformas: un cambio aquí afectaría los cursos de las otras, por eso solo el operador de Asistencia SENCE puede cambiar su nombre o su token.`, {
      staffHint: `Pida al operador de Asistencia SENCE que lo cambie en el servidor: ${sharedOtecCommand(existing)}`,
    });
  }
  const otec: Otec = {
    id: existing?.id ?? randomUUID(),
    name: input.name,
    rut: input.rut,
    tokenSealed: sealSecret(input.token, tokenKey),
    tokenHint: secretHint(input.token),
    platforms: existing?.platforms ?? [{ issuer: platform.issuer, clientId: platform.clientId }],
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  return { otec: await stores.otecs.save(otec), created: !existing };
}

/** Linked to more than one platform: changed only through the CLI (issue #19). */
export function isSharedOtec(otec: Otec): boolean {
  return (otec.platforms ?? []).length > 1;
}

/** The operator's command that changes a shared OTEC (its token; `--name` renames it). */
export function sharedOtecCommand(otec: Pick<Otec, 'rut'>): string {
  return `npm run cli -- otec rotate --rut ${otec.rut} --token - [--name "NUEVO NOMBRE"]`;
}

/** An LMS administrator removes an OTEC from their platform (the OTEC stays for other platforms). */
export async function unlinkOtecAsPlatformAdmin(stores: Stores, platform: PlatformKey, otecId: string, now: Date): Promise<Otec> {
  const otec = await stores.otecs.get(otecId);
  if (!otec || !isLinked(otec, platform)) {
    throw new AppError('otec-not-found', 404, 'Ese OTEC no está vinculado a esta plataforma.');
  }
  return stores.otecs.save({ ...otec, platforms: (otec.platforms ?? []).filter((p) => !samePlatform(p, platform)), updatedAt: now });
}
