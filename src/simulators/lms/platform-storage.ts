/**
 * The platform side of LTI Platform Storage (1EdTech lti-pm-s; what Canvas's `messages.ts` and
 * ceLTIc's `getStorageJS` do), as an inline script of the course page, the tool frame's parent
 * (`lti_storage_target=_parent`). Values live in the page (per tool origin), as in ceLTIc: the
 * login and its launch happen within one course page.
 *
 * Rules: non-objects and `*.response` subjects are ignored; a missing message_id or key is
 * `bad_request`; unknown subjects `unsupported_subject`; put_data stores under (event.origin, key)
 * and an empty or null value deletes; more than 500 keys or 4096 characters per tool origin is
 * `storage_exhaustion`; get_data answers `value: null` for a missing key (as Canvas). Replies go to
 * `event.source` with targetOrigin = `event.origin`, so only the asking origin reads them.
 */
export const PLATFORM_STORAGE_LIMITS = { keys: 500, chars: 4096 } as const;

export const PLATFORM_STORAGE_SCRIPT = `(function () {
  var LIMIT_KEYS = ${PLATFORM_STORAGE_LIMITS.keys}, LIMIT_CHARS = ${PLATFORM_STORAGE_LIMITS.chars};
  var store = {};
  window.ltiPlatformStorage = store;
  window.addEventListener('message', function (event) {
    var d = event.data;
    if (!d || typeof d !== 'object' || typeof d.subject !== 'string' || /\\.response$/.test(d.subject)) return;
    if (!event.source) return;
    function reply(extra) {
      var r = { subject: d.subject + '.response', message_id: d.message_id };
      for (var k in extra) r[k] = extra[k];
      event.source.postMessage(r, event.origin);
    }
    function fail(code, message) { reply({ error: { code: code, message: message } }); }
    if (d.message_id === undefined || d.message_id === null || d.message_id === '') return fail('bad_request', 'message_id is required');
    if (d.subject === 'lti.capabilities') {
      return reply({ supported_messages: [{ subject: 'lti.capabilities' }, { subject: 'lti.put_data' }, { subject: 'lti.get_data' }] });
    }
    if (d.subject !== 'lti.put_data' && d.subject !== 'lti.get_data') return fail('unsupported_subject', 'unsupported subject ' + d.subject);
    if (typeof d.key !== 'string' || d.key === '') return fail('bad_request', 'key is required');
    var bucket = store[event.origin] || (store[event.origin] = {});
    if (d.subject === 'lti.get_data') {
      return reply({ key: d.key, value: Object.prototype.hasOwnProperty.call(bucket, d.key) ? bucket[d.key] : null });
    }
    if (d.value === null || d.value === undefined || d.value === '') { delete bucket[d.key]; return reply({ key: d.key, value: null }); }
    var value = String(d.value);
    var keys = 0, chars = 0;
    for (var k in bucket) if (k !== d.key) { keys += 1; chars += k.length + bucket[k].length; }
    if (keys + 1 > LIMIT_KEYS || chars + d.key.length + value.length > LIMIT_CHARS) return fail('storage_exhaustion', 'storage quota exceeded');
    bucket[d.key] = value;
    reply({ key: d.key, value: value });
  });
})();`;
