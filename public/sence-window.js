// The SENCE window (the guides' "Cerrar ventana"): a running timer and a close-window button.
(function () {
  var timer = document.getElementById('session-timer');
  if (timer) {
    var base = Number(timer.getAttribute('data-elapsed')) || 0;
    var t0 = performance.now();
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    setInterval(function () {
      var s = Math.floor(base + (performance.now() - t0) / 1000);
      timer.textContent = Math.floor(s / 3600) + ':' + pad(Math.floor(s / 60) % 60) + ':' + pad(s % 60);
    }, 1000);
  }
  var close = document.getElementById('close-window');
  if (close) close.addEventListener('click', function () {
    window.close();
    close.textContent = 'Ya puedes cerrar esta pestaña y volver a tu curso';
  });
})();
