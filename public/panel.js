// The learner's panel: a clock that counts from the server's figure (not the browser's clock) and a
// poll of the server status, so the panel updates by itself when SENCE answers in the other window.
(function () {
  var panel = document.getElementById('panel');
  if (!panel) return;
  var statusUrl = panel.getAttribute('data-status-url');
  var stateKey = panel.getAttribute('data-state-key');
  // The session travels in a header, never in the URL, and no cookie is needed (the panel lives in
  // the LMS's cross-site iframe, where browsers block third-party cookies).
  var ltik = panel.getAttribute('data-ltik');
  var course = panel.getAttribute('data-course');
  var stopped = false;
  var clock = document.getElementById('clock');
  var clockValue = document.getElementById('clock-value');
  var base = clock ? Number(clock.getAttribute('data-elapsed')) : 0;
  var limit = clock ? Number(clock.getAttribute('data-limit')) : 0;
  var warning = clock ? Number(clock.getAttribute('data-warning')) : 0;
  var t0 = performance.now();

  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function fmt(s) { s = Math.max(0, Math.floor(s)); return Math.floor(s / 3600) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60); }
  function level(elapsed) {
    var remaining = limit - elapsed;
    if (remaining <= 0) return 'over';
    if (remaining <= warning) return 'danger';
    if (remaining <= 3 * warning) return 'warning';
    return 'ok';
  }
  function tick() {
    if (!clock) return;
    var elapsed = base + (performance.now() - t0) / 1000;
    clockValue.textContent = fmt(elapsed);
    clock.className = 'clock clock-' + level(elapsed);
  }
  function keyOf(s) {
    var a = s.active;
    return [a ? a.state : 'none', s.sessionCount, s.accreditedSeconds, s.configured].join('|');
  }
  function reload() {
    // A POST with the ltik in its body: the launch page itself cannot be reloaded (its id_token is used).
    var form = document.getElementById('reload-form');
    if (form) form.submit();
  }
  function expired() {
    stopped = true;
    // At the top of the panel (issue #20 §12): shown, scrolled to and focused, so it is read first.
    var note = document.getElementById('session-expired');
    if (note) {
      note.hidden = false;
      if (note.scrollIntoView) note.scrollIntoView({ block: 'start' });
      note.focus({ preventScroll: true });
    }
    var buttons = document.querySelectorAll('#open-button, #close-button, #continue-button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  }
  function poll() {
    if (stopped) return;
    fetch(statusUrl, {
      headers: { accept: 'application/json', authorization: 'Bearer ' + ltik, 'x-asistencia-course': course },
      credentials: 'omit',
    })
      .then(function (r) {
        if (r.status === 401) { expired(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (s) {
        if (!s) return;
        if (keyOf(s) !== stateKey) { stopped = true; reload(); return; }
        if (s.active && clock) { base = s.active.elapsedSeconds; t0 = performance.now(); tick(); }
      })
      .catch(function () { /* offline for a moment: try again at the next poll */ });
  }
  if (clock) { tick(); setInterval(tick, 1000); }
  setInterval(poll, 4000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  window.addEventListener('focus', poll);
})();
