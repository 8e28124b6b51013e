/**
 * The in-memory cache of resolved ltiks (src/lti/launch-session-cache.ts): an entry lives exactly
 * its time and not one millisecond more, the cache holds exactly its bound and drops the oldest one
 * past it, and what it hands out cannot be changed by one request for the next.
 */
import { deepFreeze, LaunchSessionCache } from '../../src/lti/launch-session-cache';

describe('LaunchSessionCache', () => {
  let clock = 1_000_000;
  const now = () => clock;
  beforeEach(() => {
    clock = 1_000_000;
  });

  it('answers an entry until one millisecond before its time is up, and not at that time', () => {
    const cache = new LaunchSessionCache<{ user: string }>(10, 30_000, now);
    cache.set('ltik-a', { user: 'ana' });
    clock += 29_999;
    expect(cache.get('ltik-a')).toEqual({ user: 'ana' });
    clock += 1;
    expect(cache.get('ltik-a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('holds exactly its bound; one more drops the oldest entry, not the newest', () => {
    const cache = new LaunchSessionCache<{ n: number }>(3, 30_000, now);
    cache.set('a', { n: 1 });
    cache.set('b', { n: 2 });
    cache.set('c', { n: 3 });
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toEqual({ n: 1 });
    cache.set('d', { n: 4 });
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toEqual({ n: 2 });
    expect(cache.get('d')).toEqual({ n: 4 });
  });

  it('storing a key again renews it: it becomes the newest and gets a full lifetime', () => {
    const cache = new LaunchSessionCache<{ n: number }>(2, 30_000, now);
    cache.set('a', { n: 1 });
    clock += 20_000;
    cache.set('b', { n: 2 });
    cache.set('a', { n: 10 });
    cache.set('c', { n: 3 });
    expect(cache.get('b')).toBeUndefined();
    clock += 29_999;
    expect(cache.get('a')).toEqual({ n: 10 });
  });

  it('hands out frozen records, nested values included (shared between requests)', () => {
    const cache = new LaunchSessionCache<{ user: string; platformContext: { roles: string[] } }>(10, 30_000, now);
    const stored = cache.set('k', { user: 'ana', platformContext: { roles: ['Learner'] } });
    expect(() => {
      'use strict';
      (stored as { user: string }).user = 'mallory';
    }).toThrow(TypeError);
    expect(() => stored.platformContext.roles.push('Instructor')).toThrow(TypeError);
    expect(cache.get('k')).toEqual({ user: 'ana', platformContext: { roles: ['Learner'] } });
  });

  it('clear() forgets everything', () => {
    const cache = new LaunchSessionCache<{ n: number }>(10, 30_000, now);
    cache.set('a', { n: 1 });
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('deepFreeze', () => {
  it('freezes an object and everything below it, and returns the same object', () => {
    const value = { a: { b: [1, { c: 2 }] } };
    expect(deepFreeze(value)).toBe(value);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
  });
});
