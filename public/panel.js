// The learner's panel: a clock that counts from the server's figure (not the browser's clock) and a
// poll of the server status, so the panel updates by itself when SENCE answers in the other window.
(function () {
  var panel = document.getElementById('panel');
  if (!panel) return;
  var statusUrl = panel.getAttribute('data-status-url');
  var stateKey = panel.getAttribute('data-state-key');
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
  function poll() {
    fetch(statusUrl, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        if (keyOf(s) !== stateKey) { window.location.reload(); return; }
        if (s.active && clock) { base = s.active.elapsedSeconds; t0 = performance.now(); tick(); }
      })
      .catch(function () { /* offline for a moment: try again at the next poll */ });
  }
  if (clock) { tick(); setInterval(tick, 1000); }
  setInterval(poll, 4000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  window.addEventListener('focus', poll);
})();
