// Links and search forms between the tool's pages, without the ltik in any URL (issue #6): a click on
// a link to /lti/… (or a GET form to /lti/…) becomes a POST of the same URL carrying the page's ltik
// and course in its body, with _nav=1; the server answers it as the GET of that URL. The ltik stays
// out of address bars, histories, server logs and Referer headers.
(function () {
  var session = document.getElementById('tool-session');
  if (!session) return;
  var ltik = session.getAttribute('data-ltik');
  var course = session.getAttribute('data-course');

  function toolUrl(raw) {
    var url;
    try { url = new URL(raw, window.location.href); } catch (e) { return null; }
    if (url.origin !== window.location.origin || url.pathname.indexOf('/lti/') !== 0) return null;
    url.searchParams.delete('ltik');
    return url;
  }

  function post(url, target) {
    var form = document.createElement('form');
    form.method = 'post';
    form.action = url.pathname + url.search;
    if (target) form.target = target;
    var fields = { ltik: ltik, course: course, _nav: '1' };
    for (var name in fields) {
      var input = document.createElement('input');
      input.type = 'hidden';
      input.name = name;
      input.value = fields[name];
      form.appendChild(input);
    }
    document.body.appendChild(form);
    form.submit();
    document.body.removeChild(form);
  }

  document.addEventListener('click', function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    var link = event.target && event.target.closest ? event.target.closest('a[href]') : null;
    if (!link) return;
    var url = toolUrl(link.getAttribute('href'));
    if (!url) return;
    event.preventDefault();
    var newWindow = event.ctrlKey || event.metaKey || event.shiftKey || link.target === '_blank';
    post(url, newWindow ? '_blank' : null);
  });

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form || form.tagName !== 'FORM' || (form.getAttribute('method') || 'get').toLowerCase() !== 'get') return;
    var url = toolUrl(form.getAttribute('action') || window.location.href);
    if (!url) return;
    event.preventDefault();
    var params = new URLSearchParams(new FormData(form));
    params.delete('ltik');
    params.delete('course');
    url.search = params.toString();
    post(url, null);
  });
})();

// Issue #20 (item 7): after a search, focus goes to the results; after a refused save, to the list of
// what to correct — a keyboard or screen-reader user lands where the answer is, not at the page's top.
(function () {
  function focusAnswer() {
    var target = document.querySelector('[data-focus-on-load], #settings-errors, #otec-errors, #enrollment-errors');
    if (!target) return;
    if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
    target.focus();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', focusAnswer);
  else focusAnswer();
})();
