/**
 * Names a plain object already answers to (issue #19 §1). `{}['toString']` is a function and
 * `{}['__proto__']` is Object.prototype, so a name that comes from a request (form field, JSON key,
 * query key, path segment, CSV header) looked up in a plain object finds them: the request-shape
 * guard did, and a `TypeError` inside body-parser's callback stopped the process. Dictionaries keyed
 * by such names are `Map`s, `Object.create(null)` or read through `ownValue` (Object.hasOwn).
 */

/** Every own member name of Object.prototype (`constructor`, `toString`, `__proto__`, `hasOwnProperty`…). */
export const INHERITED_NAMES: ReadonlySet<string> = new Set([...Object.getOwnPropertyNames(Object.prototype), '__proto__']);

/**
 * True when `key`, or one of its segments as a bracket/dot parser would split it (`constructor.prototype`,
 * `__proto__[x]`, `a[constructor]`), is an inherited member name (or `prototype`, the step that
 * reaches a constructor's prototype). No parameter of the tool, ltijs or an LMS is named so.
 */
export function namesInheritedMember(key: string): boolean {
  if (INHERITED_NAMES.has(key)) return true;
  const segments = key.split(/[[\].]/);
  if (segments.length === 1) return false;
  return segments.some((s) => INHERITED_NAMES.has(s) || s === 'prototype');
}

/** `dict[name]` when `name` is the dictionary's own key; undefined otherwise (never an inherited member). */
export function ownValue<T>(dict: Readonly<Record<string, T>>, name: string): T | undefined {
  return Object.hasOwn(dict, name) ? dict[name] : undefined;
}
