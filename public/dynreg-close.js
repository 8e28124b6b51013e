// LTI Dynamic Registration §3.6: tell the platform the registration is done so it closes this
// window — only when the administrator presses the button, after reading the next steps.
(function () {
  var button = document.getElementById('dynreg-close');
  if (!button) return;
  button.addEventListener('click', function () {
    (window.opener || window.parent).postMessage({ subject: 'org.imsglobal.lti.close' }, '*');
  });
})();
