// "Check your file" on the public verification page (progressive enhancement: without this script
// the form still posts the file to the server's validation). The local check hashes the file with
// WebCrypto (SHA-256, FIPS 180-4) in the browser and compares it with the registered hash embedded in
// the page; the file leaves the device only when the server-check button is pressed.
(function () {
  'use strict';
  var box = document.getElementById('check-file');
  if (!box) return;
  var form = document.getElementById('server-check');
  var input = document.getElementById('file-input');
  var drop = document.getElementById('drop-zone');
  var local = document.getElementById('local-result');
  var server = document.getElementById('server-result');
  var expected = (box.getAttribute('data-sha256') || '').toLowerCase();
  function msg(name) { return box.getAttribute('data-msg-' + name) || ''; }
  function say(el, text, cls) { el.textContent = text; el.className = 'result-line' + (cls ? ' ' + cls : ''); }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer), out = '';
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    return out;
  }

  function checkLocally(file) {
    say(server, '');
    if (!window.crypto || !window.crypto.subtle) { say(local, msg('no-crypto'), 'mismatch'); return; }
    say(local, msg('hashing'));
    file.arrayBuffer()
      .then(function (buf) { return window.crypto.subtle.digest('SHA-256', buf); })
      .then(function (digest) {
        var same = hex(digest) === expected;
        say(local, same ? msg('match') : msg('mismatch'), same ? 'match' : 'mismatch');
        local.setAttribute('data-match', same ? 'yes' : 'no');
      })
      .catch(function () { say(local, msg('no-crypto'), 'mismatch'); });
  }

  input.addEventListener('change', function () { if (input.files && input.files[0]) checkLocally(input.files[0]); });

  ['dragenter', 'dragover'].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add('dragging'); });
  });
  ['dragleave', 'drop'].forEach(function (type) {
    drop.addEventListener(type, function () { drop.classList.remove('dragging'); });
  });
  drop.addEventListener('drop', function (e) {
    e.preventDefault();
    var files = e.dataTransfer && e.dataTransfer.files;
    if (!files || !files[0]) return;
    try { input.files = files; } catch (_) { /* older browsers: the hash below still runs */ }
    checkLocally(files[0]);
  });

  var VERDICTS = { 'TOTAL-PASSED': 'server-passed', 'TOTAL-FAILED': 'server-failed', INDETERMINATE: 'server-indeterminate', NO_SIGNATURE: 'server-no-signature' };

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (!input.files || !input.files[0]) { say(server, msg('choose-first'), 'mismatch'); input.focus(); return; }
    var data = new FormData();
    data.append('format', 'json');
    data.append('file', input.files[0]);
    say(server, msg('sending'));
    fetch(form.getAttribute('action'), { method: 'POST', body: data, headers: { Accept: 'application/json' }, credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(new Error(String(r.status))); })
      .then(function (report) {
        var key = VERDICTS[report.documentIndication] || 'server-error';
        say(server, msg(key) + (report.documentIndication ? ' (' + report.documentIndication + ')' : ''), key === 'server-passed' ? 'match' : 'mismatch');
        server.setAttribute('data-indication', report.documentIndication || '');
      })
      .catch(function () { say(server, msg('server-error'), 'mismatch'); });
  });
})();
