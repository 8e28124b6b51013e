/**
 * One-time dynamic-registration invitations (issue #5 of the security review): the operator creates
 * one (`npm run cli -- platform invite`), the LMS administrator opens the printed URL from Moodle's
 * "Add LTI Advantage" (Moodle keeps the query and appends openid_configuration and
 * registration_token). Only the SHA-256 of the code is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RegistrationInvite } from '../domain/types';
import type { Stores } from '../store/ports';

export const INVITE_DEFAULT_HOURS = 24;
export const INVITE_MAX_HOURS = 24 * 14;
/** Codes are 32 base64url characters (24 random bytes). */
export const INVITE_CODE_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export function hashInviteCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

export function inviteUrl(publicUrl: string, code: string): string {
  return `${publicUrl}/lti/register?invite=${code}`;
}

export async function createInvite(stores: Stores, input: { name: string | null; hours: number; now: Date }): Promise<{ code: string; invite: RegistrationInvite }> {
  const code = randomBytes(24).toString('base64url');
  const invite: RegistrationInvite = {
    codeHash: hashInviteCode(code),
    name: input.name,
    createdAt: input.now,
    expiresAt: new Date(input.now.getTime() + input.hours * 3_600_000),
    usedAt: null,
    platform: null,
    failedAttempts: 0,
  };
  await stores.invites.create(invite);
  return { code, invite };
}
