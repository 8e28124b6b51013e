// LTI Platform Storage, tool side (1EdTech lti-cs-pm / lti-pm-s; Canvas's cookieless login): the
// login page puts the OIDC state in the platform's storage, in this browser, before going on to the
// platform; the launch page reads it back and posts it to the tool, which lets the launch through
// only when it matches. Messages go to the frame the platform named (lti_storage_target) with
// targetOrigin = the platform's OIDC origin; answers are accepted only from that origin, with the
// same message_id and the `.response` subject. No answer in time counts as "storage unavailable".
(function () {
  var el = document.getElementById('platform-storage');
  if (!el) return;
  var mode = el.getAttribute('data-mode');
  var target = el.getAttribute('data-target');
  var origin = el.getAttribute('data-origin');
  var key = el.getAttribute('data-key');
  var TIMEOUT_MS = 3000;

  function targetFrame() {
    var base = window.parent !== window ? window.parent : window.opener;
    if (!base) return null;
    if (target === '_parent') return base;
    try { return base.frames[target] || null; } catch (e) { return null; }
  }

  function send(message, done) {
    var frame = targetFrame();
    if (!frame) { done({ code: 'no_target_frame' }); return; }
    var id = 'asistencia-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2);
    message.message_id = id;
    var finished = false;
    var timer = null;
    function finish(err, data) {
      if (finished) return;
      finished = true;
      window.removeEventListener('message', onMessage);
      if (timer) clearTimeout(timer);
      done(err, data);
    }
    function onMessage(event) {
      if (event.origin !== origin) return;
      var d = event.data;
      if (!d || typeof d !== 'object' || d.message_id !== id || d.subject !== message.subject + '.response') return;
      if (d.error) finish({ code: String(d.error.code || 'error') });
      else finish(null, d);
    }
    window.addEventListener('message', onMessage);
    timer = setTimeout(function () { finish({ code: 'timeout' }); }, TIMEOUT_MS);
    try { frame.postMessage(message, origin); } catch (e) { finish({ code: 'post_failed' }); }
  }

  function showUnavailable() {
    var working = document.getElementById('ps-working');
    if (working) working.hidden = true;
    var box = document.getElementById('storage-unavailable');
    if (box) box.hidden = false;
  }

  if (mode === 'put') {
    send({ subject: 'lti.put_data', key: key, value: el.getAttribute('data-value') }, function (err) {
      if (err) { showUnavailable(); return; }
      window.location.replace(el.getAttribute('data-next'));
    });
  } else if (mode === 'get') {
    send({ subject: 'lti.get_data', key: key }, function (err, data) {
      var form = document.getElementById('storage-check-form');
      if (!form) return;
      if (err) form.elements.namedItem('error').value = err.code;
      else form.elements.namedItem('value').value = typeof data.value === 'string' ? data.value : '';
      form.submit();
    });
  }
})();
