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

  // Only the file chosen last speaks: a large file hashed earlier must not overwrite its result, nor a
  // server answer about a file no longer chosen.
  var localSeq = 0;
  var serverSeq = 0;
  function checkLocally(file) {
    var seq = ++localSeq;
    serverSeq++;
    say(server, '');
    server.removeAttribute('data-indication');
    local.removeAttribute('data-match');
    if (!window.crypto || !window.crypto.subtle) { say(local, msg('no-crypto'), 'mismatch'); return; }
    say(local, msg('hashing'));
    file.arrayBuffer().then(function (buf) {
      if (seq !== localSeq) return;
      return window.crypto.subtle.digest('SHA-256', buf).then(function (digest) {
        if (seq !== localSeq) return;
        var same = hex(digest) === expected;
        say(local, same ? msg('match') : msg('mismatch'), same ? 'match' : 'mismatch');
        local.setAttribute('data-match', same ? 'yes' : 'no');
      }, function () { if (seq === localSeq) say(local, msg('no-crypto'), 'mismatch'); });
    }, function () { if (seq === localSeq) say(local, msg('read-error'), 'mismatch'); });
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

  // Why the server gave no report: busy (429, or 503 server-busy, with its Retry-After), too large (413, also from a proxy
  // whose answer is not JSON), not a PDF, unreachable, or anything else.
  function failureText(f) {
    var p = f.problem || {};
    if (f.status === 429 || p.code === 'server-busy') {
      var s = p.retryAfterSeconds || parseInt(f.retryAfter || '', 10);
      return msg('server-busy').replace('{s}', s > 0 ? String(s) : '…');
    }
    if (f.status === 413 || p.code === 'body-too-large') return msg('server-too-large');
    if (p.code === 'not-a-pdf' || p.code === 'file-missing') return msg('server-not-pdf');
    if (f.status === 0) return msg('server-offline');
    return msg('server-error');
  }

  var busy = false;
  var button = form.querySelector('button[type=submit]');
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    if (busy) return; // one file on its way at a time (each costs the client's allowance)
    if (!input.files || !input.files[0]) { say(server, msg('choose-first'), 'mismatch'); input.focus(); return; }
    var seq = ++serverSeq;
    var data = new FormData();
    data.append('format', 'json');
    data.append('file', input.files[0]);
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    server.removeAttribute('data-indication');
    say(server, msg('sending'));
    fetch(form.getAttribute('action'), { method: 'POST', body: data, headers: { Accept: 'application/json' }, credentials: 'omit' })
      .then(function (r) {
        return r.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (_) { /* a proxy's page, not ours */ }
          if (r.ok && body && body.documentIndication) return body;
          throw { status: r.status, problem: body, retryAfter: r.headers.get('Retry-After') };
        });
      }, function () { throw { status: 0 }; })
      .then(function (report) {
        if (seq !== serverSeq) return;
        var key = VERDICTS[report.documentIndication] || 'server-error';
        say(server, msg(key) + ' (' + report.documentIndication + ')', key === 'server-passed' ? 'match' : 'mismatch');
        server.setAttribute('data-indication', report.documentIndication);
      })
      .catch(function (f) { if (seq === serverSeq) say(server, failureText(f || {}), 'mismatch'); })
      .then(function () { busy = false; button.removeAttribute('aria-disabled'); });
  });
})();
