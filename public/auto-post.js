// Submits the one form marked data-auto-submit (no inline scripts: CSP script-src 'self').
(function () {
  var form = document.querySelector('form[data-auto-submit="true"]');
  if (form) form.submit();
})();
