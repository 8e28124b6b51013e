import type { RegistrationInvite } from '../../domain/types';
import type { RegistrationInviteStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, fromMsOrNull, toMs } from './sqlite-codec';

interface InviteRow {
  code_hash: string;
  name: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  platform_issuer: string | null;
  platform_client_id: string | null;
  failed_attempts: number | null;
}

function toInvite(row: InviteRow): RegistrationInvite {
  return {
    codeHash: row.code_hash,
    name: row.name,
    createdAt: fromMs(row.created_at),
    expiresAt: fromMs(row.expires_at),
    usedAt: fromMsOrNull(row.used_at),
    platform: row.platform_issuer !== null && row.platform_client_id !== null ? { issuer: row.platform_issuer, clientId: row.platform_client_id } : null,
    failedAttempts: row.failed_attempts ?? 0,
  };
}

export class SqliteInviteStore implements RegistrationInviteStore {
  private readonly insertStmt;
  private readonly getStmt;
  private readonly consumeStmt;
  private readonly claimUpdateStmt;
  private readonly releaseStmt;
  private readonly setPlatformStmt;
  private readonly listStmt;

  constructor(db: Database) {
    this.insertStmt = db.prepare<[string, string | null, number, number]>(
      'INSERT INTO app_registration_invites (code_hash, name, created_at, expires_at) VALUES (?, ?, ?, ?)',
    );
    this.getStmt = db.prepare<[string], InviteRow>('SELECT * FROM app_registration_invites WHERE code_hash = ?');
    // One statement each: the conditions and the charge are one atomic step.
    this.consumeStmt = db.prepare<[number, string, number, number], InviteRow>(
      `UPDATE app_registration_invites SET used_at = ?, failed_attempts = failed_attempts + 1
       WHERE code_hash = ? AND used_at IS NULL AND expires_at > ? AND failed_attempts < ? RETURNING *`,
    );
    this.claimUpdateStmt = db.prepare<[string, number, number], InviteRow>(
      `UPDATE app_registration_invites SET failed_attempts = failed_attempts + 1
       WHERE code_hash = ? AND platform_issuer IS NOT NULL AND expires_at > ? AND failed_attempts < ? RETURNING *`,
    );
    this.releaseStmt = db.prepare<[string, number]>(
      'UPDATE app_registration_invites SET used_at = NULL WHERE code_hash = ? AND platform_issuer IS NULL AND failed_attempts < ?',
    );
    this.setPlatformStmt = db.prepare<[string, string, string]>(
      'UPDATE app_registration_invites SET platform_issuer = ?, platform_client_id = ?, failed_attempts = MAX(failed_attempts - 1, 0) WHERE code_hash = ?',
    );
    this.listStmt = db.prepare<[], InviteRow>('SELECT * FROM app_registration_invites ORDER BY created_at DESC, code_hash');
  }

  async create(invite: RegistrationInvite): Promise<void> {
    this.insertStmt.run(invite.codeHash, invite.name, toMs(invite.createdAt), toMs(invite.expiresAt));
  }

  async get(codeHash: string): Promise<RegistrationInvite | null> {
    const row = this.getStmt.get(codeHash);
    return row ? toInvite(row) : null;
  }

  async consume(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null> {
    const row = this.consumeStmt.get(toMs(now), codeHash, toMs(now), maxFailedAttempts);
    return row ? toInvite(row) : null;
  }

  async claimUpdate(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null> {
    const row = this.claimUpdateStmt.get(codeHash, toMs(now), maxFailedAttempts);
    return row ? toInvite(row) : null;
  }

  async release(codeHash: string, maxFailedAttempts: number): Promise<void> {
    this.releaseStmt.run(codeHash, maxFailedAttempts);
  }

  async setPlatform(codeHash: string, platform: { issuer: string; clientId: string }): Promise<void> {
    this.setPlatformStmt.run(platform.issuer, platform.clientId, codeHash);
  }

  async list(): Promise<RegistrationInvite[]> {
    return this.listStmt.all().map(toInvite);
  }
}
