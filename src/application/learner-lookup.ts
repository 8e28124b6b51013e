/**
 * The learners behind a list of keys (a course's sessions, audit entries), looked up a few queries
 * at a time instead of one query per learner: a course of hundreds of learners made the staff pages
 * issue one round trip per learner, and per session for SENCE's answers (N + 1 on MongoDB).
 */
import type { Learner, LearnerKey } from '../domain/types';
import type { LearnerStore } from '../store/ports';

/** One string per learner (issuer, client id and sub: the same sub on two platforms differs). */
export function learnerKeyId(key: LearnerKey): string {
  return `${key.issuer}\u0000${key.clientId}\u0000${key.sub}`;
}

/** The stored learners among `keys`, by learnerKeyId; keys with no stored learner are absent. */
export async function lookUpLearners(learners: LearnerStore, keys: readonly LearnerKey[]): Promise<Map<string, Learner>> {
  const subsByPlatform = new Map<string, { issuer: string; clientId: string; subs: Set<string> }>();
  for (const k of keys) {
    const platformId = `${k.issuer}\u0000${k.clientId}`;
    let entry = subsByPlatform.get(platformId);
    if (!entry) subsByPlatform.set(platformId, (entry = { issuer: k.issuer, clientId: k.clientId, subs: new Set() }));
    entry.subs.add(k.sub);
  }
  const out = new Map<string, Learner>();
  for (const { issuer, clientId, subs } of subsByPlatform.values()) {
    const found = await learners.getMany({ issuer, clientId }, [...subs]);
    for (const learner of found.values()) out.set(learnerKeyId(learner), learner);
  }
  return out;
}
