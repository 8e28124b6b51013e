// After a failed save, the keyboard focus goes to the error summary (issue #20 §7): a screen reader
// reads what went wrong first, and Tab continues from there to the fields. Only the element the
// server marked with data-focus-on-load (one per page) is focused.
(function () {
  var target = document.querySelector('[data-focus-on-load]');
  if (target && typeof target.focus === 'function') target.focus();
})();
