// Officer console and public report page. The pages are server-rendered shells; this script calls
// the JSON APIs with the session cookie (same origin) and, on every state-changing request, the
// X-CSRF-Token header from GET /api/v1/session. Every text from the server goes in with
// textContent (never innerHTML). Problems (RFC 9457) are shown in the page's words for the codes the
// page knows (its i18n data `problems`), else with their English `detail`, the code in parentheses.
(function () {
  'use strict';
  var body = document.body;
  var page = body.getAttribute('data-page');
  var lang = body.getAttribute('data-lang') || 'vi';
  var M = {};
  try { M = JSON.parse(document.getElementById('i18n').textContent); } catch (_) { /* words fall back to keys */ }
  var PROBLEMS = M.problems || {};
  function t(k) { return M[k] || k; }
  function $(id) { return document.getElementById(id); }
  function withLang(path) { return lang === 'en' ? path + (path.indexOf('?') < 0 ? '?' : '&') + 'lang=en' : path; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k] === true ? '' : attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return e;
  }

  var errorBox = $('error');
  var noticeBox = $('notice');
  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }
  function notice(text) {
    if (noticeBox) noticeBox.textContent = text || '';
    if (text) showError('');
  }

  /** The visible name of a form field: its label without the "(required)" mark. */
  function labelOf(input) {
    var label = input.labels && input.labels[0];
    return label ? label.firstChild.textContent.trim() : input.name;
  }

  /**
   * An Error for a failed response, its message in the page's words (see the header). The parsed
   * problem stays on it (`problem`), for the fields of an invalid-parameters answer.
   */
  function failure(status, text, retryAfter) {
    var p = null;
    try { p = JSON.parse(text); } catch (_) { /* not ours: a proxy's or gateway's page */ }
    if (!p || typeof p !== 'object' || !p.code) {
      p = { code: status === 413 ? 'body-too-large' : status === 429 ? 'rate-limited' : null, retryAfterSeconds: parseInt(retryAfter || '', 10) || null };
      if (!p.code) return new Error(t('httpError').replace('{status}', String(status)));
    }
    var known = PROBLEMS[p.code];
    var words = known ? known.replace('{s}', p.retryAfterSeconds ? String(p.retryAfterSeconds) : '…') : p.detail || p.title || '';
    if (p.code === 'invalid-parameters' && p.errors && p.errors.length) {
      words += ': ' + p.errors.map(function (e) { var f = fieldOf(e.path); return f ? labelOf(f) : e.path ? e.path + ': ' + e.message : e.message; }).join(', ');
    }
    var err = new Error(words + ' (' + p.code + ')' + (status >= 500 && p.requestId ? ' — ' + p.requestId : ''));
    err.problem = p;
    return err;
  }

  // The field an invalid-parameters error names: the parameter's own id, or the id the form gives it.
  var FIELD_IDS = { reason: ['reason', 'annulReason'] };
  function fieldOf(path) {
    var ids = (FIELD_IDS[path] || [path]).concat(['o-' + path, 'e-' + path, 'k-' + path]);
    for (var i = 0; i < ids.length; i++) { var f = $(ids[i]); if (f && f.offsetParent !== null) return f; }
    return null;
  }

  /**
   * What a failed action shows: the error, and the focus where it can be fixed — the first field the
   * service named, else the error itself (scrolled into view: it sits at the top of long pages).
   */
  function failed(err) {
    Array.prototype.forEach.call(document.querySelectorAll('[aria-invalid="true"]'), function (f) { f.removeAttribute('aria-invalid'); });
    showError(err.message);
    var p = err.problem;
    var first = null;
    if (p && p.code === 'invalid-parameters' && p.errors) p.errors.forEach(function (e) {
      var f = fieldOf(e.path);
      if (f) { f.setAttribute('aria-invalid', 'true'); first = first || f; }
    });
    if (first) first.focus();
    else if (errorBox) errorBox.focus();
  }

  /** After a list is drawn again, the focus goes to the row acted on (the button pressed is gone with the old rows). */
  function focusRow(row) {
    if (!row) return;
    row.setAttribute('tabindex', '-1');
    row.focus();
  }

  /** One request; rejects with `failure`. Unsafe methods carry `token` as X-CSRF-Token. */
  function request(method, url, data, token) {
    var headers = { Accept: 'application/json' };
    if (token) headers['X-CSRF-Token'] = token;
    var init = { method: method, credentials: 'same-origin', headers: headers };
    if (data !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(data); }
    return fetch(url, init).then(function (r) {
      if (r.status === 401 && page !== 'login') { location.href = withLang('/console/login?next=' + encodeURIComponent(location.pathname)); }
      if (r.status === 204) return null;
      return r.text().then(function (text) {
        if (!r.ok) throw failure(r.status, text, r.headers.get('Retry-After'));
        return text ? JSON.parse(text) : null;
      });
    }, function () { throw new Error(t('networkError')); });
  }

  // The session's CSRF token: asked for once, and asked again when that failed (a network hiccup at
  // page load must not leave every later action without it).
  var csrf = null;
  var csrfLoad = null;
  function csrfToken() {
    if (csrf) return Promise.resolve(csrf);
    if (!csrfLoad) {
      csrfLoad = request('GET', '/api/v1/session').then(function (s) {
        csrfLoad = null;
        csrf = s && s.csrfToken;
        if (!csrf) throw new Error(t('networkError'));
        return csrf;
      }, function (err) { csrfLoad = null; throw err; });
    }
    return csrfLoad;
  }

  /** JSON API call of a signed-in page: state-changing methods wait for the CSRF token. */
  function api(method, url, data) {
    if (method === 'GET') return request(method, url, data, null);
    return csrfToken().then(function (token) { return request(method, url, data, token); });
  }

  function formValue(id) { var e = $(id); return e ? e.value.trim() : ''; }

  // Dates and times in Vietnam's time zone (UTC+7, no daylight saving).
  function vnIso(d) { return new Date(d.getTime() + 7 * 3600e3).toISOString(); }
  function vnTime(iso) { if (!iso) return '—'; var s = vnIso(new Date(iso)); return s.slice(11, 16) + ' ' + s.slice(0, 10).split('-').reverse().join('/'); }
  function todayVn() { return vnIso(new Date()).slice(0, 10); }

  var logout = $('logout');
  if (logout) logout.addEventListener('click', function () {
    // A failed sign-out is shown, never taken for a success (on a shared counter computer the next
    // person would find this session open).
    api('DELETE', '/api/v1/session')
      .then(function () { location.href = withLang('/console/login'); }, failed);
  });

  /** A drop zone that hands dropped files to `take` (and keeps the file input usable by keyboard). */
  function dropZone(zone, take) {
    ['dragenter', 'dragover'].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add('dragging'); });
    });
    ['dragleave', 'drop'].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove('dragging'); });
    });
    zone.addEventListener('drop', function (e) {
      e.preventDefault();
      var files = e.dataTransfer && e.dataTransfer.files;
      if (files && files.length) take(files);
    });
  }

  // ---------------------------------------------------------------- report (public)
  if (page === 'report') {
    var rform = $('report-form');
    var rinput = $('report-file');
    dropZone($('drop-zone'), function (files) {
      try { rinput.files = files; } catch (_) { return; }
      if (rform.requestSubmit) rform.requestSubmit(); else rform.submit();
    });
    return;
  }

  // ---------------------------------------------------------------- login
  if (page === 'login') {
    var lform = $('login-form');
    lform.addEventListener('submit', function (e) {
      e.preventDefault();
      showError('');
      var button = lform.querySelector('button[type=submit]');
      button.disabled = true;
      request('POST', '/api/v1/session', { username: formValue('username'), password: $('password').value })
        .then(function () { location.href = withLang(lform.getAttribute('data-next') || '/console'); })
        .catch(function (err) {
          showError(t('loginFailed') + ' ' + err.message);
          $('password').value = '';
          $('password').focus();
        })
        .then(function () { button.disabled = false; });
    });
    return;
  }

  // Every other console page needs the CSRF token before it changes anything: ask for it now.
  csrfToken().catch(function () { /* asked again by the first action that needs it */ });

  // ---------------------------------------------------------------- register rows (today, search)
  var STATUS = { valid: t('st-valid'), annulled: t('st-annulled'), void: t('st-void'), reserved: t('st-reserved') };
  function registerRow(c, onAnnul) {
    // Only issued copies have a file: a void or reserved number has none.
    var hasFile = c.status === 'valid' || c.status === 'annulled';
    var actions = el('td', null, [hasFile ? el('a', { href: '/api/v1/certified-copies/' + encodeURIComponent(c.id) + '/pdf', download: 'ban-sao-' + c.number + '.pdf', text: t('pdf') }) : document.createTextNode('—')]);
    if (onAnnul && c.status === 'valid') {
      actions.appendChild(document.createTextNode(' '));
      actions.appendChild(el('button', { type: 'button', class: 'small danger', 'data-annul': c.id, text: t('annul') + ' ' + c.number }));
      actions.lastChild.addEventListener('click', function () { onAnnul(c); });
    }
    return el('tr', { 'data-id': c.id, 'data-number': String(c.number) }, [
      el('td', { text: c.number + (c.registerVolume ? ' — ' + c.registerVolume : '') }),
      el('td', { text: vnTime(c.certifiedAt) }),
      el('td', { text: c.documentType }),
      el('td', { text: c.requesterName }),
      el('td', { text: c.certifierName }),
      el('td', { class: 'st-' + c.status, 'data-status': c.status, text: STATUS[c.status] || c.status }),
      el('td', null, [el('a', { href: withLang('/v/' + c.publicCode), text: c.publicCode })]),
      actions,
    ]);
  }

  /** Loads a register query into a table, page by page (nextCursor). */
  function registerList(table, onAnnul) {
    var tbody = table.querySelector('tbody');
    var more = $('more');
    var base = '';
    var cursor = null;
    function load(reset) {
      if (reset) { tbody.textContent = ''; cursor = null; }
      notice(t('loading'));
      var url = '/api/v1/certified-copies?' + base + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      return api('GET', url).then(function (r) {
        r.items.forEach(function (c) { tbody.appendChild(registerRow(c, onAnnul)); });
        cursor = r.nextCursor;
        more.hidden = !cursor;
        notice(tbody.children.length ? '' : t('empty'));
      }).catch(function (err) { notice(''); showError(err.message); });
    }
    more.addEventListener('click', function () { load(false); });
    return { query: function (q) { base = q; return load(true); } };
  }

  if (page === 'today') {
    registerList($('today-table')).query('from=' + todayVn() + '&limit=50');
    return;
  }

  if (page === 'search') {
    var annulBox = $('annul');
    var target = null;
    var opener = null;
    var list = registerList($('search-table'), annulBox ? function (c) {
      target = c;
      opener = document.activeElement;
      $('annul-target').textContent = '— ' + c.number + ' (' + c.documentType + ')';
      annulBox.hidden = false;
      annulBox.focus();
    } : null);
    /** Back from the annulment form: to the copy's row (after the list is reloaded), or the button that opened it. */
    function closeAnnul(copyId) {
      annulBox.hidden = true;
      target = null;
      var row = copyId ? $('search-table').querySelector('tr[data-id="' + copyId + '"]') : null;
      if (row) focusRow(row);
      else if (opener && opener.isConnected) opener.focus();
    }
    var sform = $('search-form');
    function run() {
      var q = new URLSearchParams();
      ['number', 'code', 'from', 'to', 'status', 'caseCode'].forEach(function (k) { var v = formValue(k); if (v) q.set(k, k === 'code' ? v.toUpperCase().replace(/[\s-]/g, '') : v); });
      q.set('limit', '50');
      showError('');
      return list.query(q.toString());
    }
    sform.addEventListener('submit', function (e) { e.preventDefault(); run(); });
    if (annulBox) {
      $('annul-cancel').addEventListener('click', function () { closeAnnul(null); });
      $('annul-form').addEventListener('submit', function (e) {
        e.preventDefault();
        if (!target) return;
        var id = target.id;
        var button = e.target.querySelector('button[type=submit]');
        button.disabled = true;
        api('POST', '/api/v1/certified-copies/' + encodeURIComponent(id) + '/annul', {
          decisionNumber: formValue('decisionNumber'), decisionDate: formValue('decisionDate'), reason: formValue('annulReason'),
        }).then(function () {
          e.target.reset();
          return run().then(function () { closeAnnul(id); notice(t('annulled')); });
        }).catch(failed)
          .then(function () { button.disabled = false; });
      });
    }
    run();
    return;
  }

  // ---------------------------------------------------------------- certify
  if (page === 'certify') {
    var ACCEPT = /\.(pdf|jpe?g|png|tiff?)$/i;
    var files = [];
    var idempotencyKey = null;
    var input = $('files');
    var listEl = $('file-list');
    var preview = $('preview');
    var cform = $('certify-form');
    var result = $('result');

    function renderFiles() {
      listEl.textContent = '';
      files.forEach(function (f, i) {
        var up = el('button', { type: 'button', class: 'small secondary', 'aria-label': t('up') + ': ' + f.name, disabled: i === 0, text: '↑' });
        var down = el('button', { type: 'button', class: 'small secondary', 'aria-label': t('down') + ': ' + f.name, disabled: i === files.length - 1, text: '↓' });
        var rm = el('button', { type: 'button', class: 'small secondary', 'aria-label': t('remove') + ': ' + f.name, text: '✕' });
        up.addEventListener('click', function () { move(i, -1); });
        down.addEventListener('click', function () { move(i, 1); });
        rm.addEventListener('click', function () { files.splice(i, 1); changed(); });
        listEl.appendChild(el('li', null, [el('span', { class: 'name', text: f.name + ' (' + Math.ceil(f.size / 1024) + ' KB)' }), up, down, rm]));
      });
    }
    function move(i, d) { var f = files[i]; files[i] = files[i + d]; files[i + d] = f; changed(); }
    function changed() { idempotencyKey = null; renderFiles(); runPreview(); }
    function add(list) {
      var bad = [];
      Array.prototype.forEach.call(list, function (f) { if (ACCEPT.test(f.name)) files.push(f); else bad.push(f.name); });
      showError(bad.length ? t('badType') + ': ' + bad.join(', ') : '');
      changed();
    }
    input.addEventListener('change', function () { add(input.files); input.value = ''; });
    dropZone($('drop-zone'), add);

    function filesForm() {
      var fd = new FormData();
      files.forEach(function (f) { fd.append('file', f, f.name); });
      return fd;
    }

    var previewSeq = 0;
    function runPreview() {
      var seq = ++previewSeq;
      preview.textContent = '';
      if (!files.length) return;
      notice(t('previewing'));
      csrfToken().then(function (token) {
        return fetch('/api/v1/certified-copies/preview', { method: 'POST', credentials: 'same-origin', headers: { Accept: 'application/json', 'X-CSRF-Token': token }, body: filesForm() })
          .then(null, function () { throw new Error(t('networkError')); });
      }).then(function (r) {
        return r.text().then(function (text) { if (!r.ok) throw failure(r.status, text, r.headers.get('Retry-After')); return JSON.parse(text); });
      }).then(function (p) {
        if (seq !== previewSeq) return;
        notice('');
        // Pages carry their number (a long scan is previewed as its first pages and its last).
        var total = p.pageCount || p.pages.length;
        p.pages.forEach(function (pg, i) {
          var n = pg.page || i + 1;
          var stamped = p.stamp && p.stamp.page === n;
          var sheet = el('div', { class: 'sheet' }, [el('img', { src: pg.image, alt: t('page') + ' ' + n })]);
          if (stamped) {
            // PDF user space has its origin at the bottom left (ISO 32000-1 §8.3.2.3); CSS at the top left.
            var r = p.stamp.rect;
            var box = el('div', { class: 'stamp-box', 'data-stamp': 'true', title: t('stamp') });
            box.style.left = (100 * r[0] / pg.width) + '%';
            box.style.width = (100 * (r[2] - r[0]) / pg.width) + '%';
            box.style.top = (100 * (pg.height - r[3]) / pg.height) + '%';
            box.style.height = (100 * (r[3] - r[1]) / pg.height) + '%';
            sheet.appendChild(box);
          }
          preview.appendChild(el('figure', { 'data-page': String(n) }, [sheet, el('figcaption', { text: t('page') + ' ' + n + '/' + total + (stamped ? ' — ' + t('stamp') : '') })]));
        });
        if (!formValue('originalPages')) $('originalPages').value = String(total);
      }).catch(function (err) { if (seq === previewSeq) { notice(''); showError(err.message); } });
    }
    $('preview-button').addEventListener('click', function () { if (!files.length) showError(t('noFiles')); else runPreview(); });

    var progressBox = $('progress');
    var bar = $('upload-progress');
    var barLabel = $('progress-label');
    // The bar's label follows every percent; screen readers hear each stage once, in the polite
    // notice region (uploading, then signing, then saved), not every percent.
    var stage = null;
    function progress(label, percent, stageKey) {
      progressBox.hidden = false;
      barLabel.textContent = label;
      if (percent === null) bar.removeAttribute('value'); else bar.value = percent;
      if (stageKey !== stage) { stage = stageKey; notice(t(stageKey)); }
    }

    function showResult(r) {
      var dl = $('result-fields');
      dl.textContent = '';
      var c = r.copy;
      [[t('number'), String(c.number), 'number'], [t('volume'), c.registerVolume, 'volume'], [t('publicCode'), c.publicCode, 'public-code'], [t('accessCode'), r.accessCode, 'access-code']].forEach(function (row) {
        dl.appendChild(el('dt', { text: row[0] }));
        dl.appendChild(el('dd', { 'data-field': row[2], class: row[2] === 'access-code' ? 'secret' : null, text: row[1] }));
      });
      var actions = $('result-actions');
      actions.textContent = '';
      actions.appendChild(el('a', { class: 'button', id: 'download-pdf', href: r.pdfUrl, download: 'ban-sao-' + c.number + '.pdf', text: t('download') }));
      actions.appendChild(el('a', { class: 'button', id: 'verify-link', href: r.verificationUrl, text: t('verifyLink') }));
      var again = el('button', { type: 'button', class: 'secondary', text: t('newCopy') });
      again.addEventListener('click', function () {
        files = []; cform.reset(); result.hidden = true; progressBox.hidden = true; changed(); input.focus();
      });
      actions.appendChild(again);
      result.hidden = false;
      result.focus();
    }

    cform.addEventListener('submit', function (e) {
      e.preventDefault();
      showError('');
      if (!files.length) { showError(t('noFiles')); input.focus(); return; }
      var fd = new FormData();
      ['documentType', 'originalIssuer', 'requesterName', 'originalPages', 'copies', 'caseCode', 'receivingSite', 'notes'].forEach(function (k) {
        var v = formValue(k); if (v) fd.append(k, v);
      });
      files.forEach(function (f) { fd.append('file', f, f.name); });
      // One key per attempt: a retry after a lost answer cannot certify the same scan twice.
      idempotencyKey = idempotencyKey || (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      var button = $('certify-button');
      button.disabled = true;
      function stopped(err) { button.disabled = false; progressBox.hidden = true; notice(''); failed(err); }
      csrfToken().then(function (token) {
        var xhr = new XMLHttpRequest();
        xhr.open('POST', '/api/v1/certified-copies');
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.setRequestHeader('X-CSRF-Token', token);
        xhr.setRequestHeader('Idempotency-Key', idempotencyKey);
        xhr.upload.addEventListener('progress', function (ev) {
          if (ev.lengthComputable) progress(t('uploading') + ' ' + Math.round(100 * ev.loaded / ev.total) + ' %', Math.round(100 * ev.loaded / ev.total), 'uploading');
        });
        // Upload done: the server now normalises, stamps, signs and time-stamps.
        xhr.upload.addEventListener('load', function () { progress(t('signing'), null, 'signing'); });
        xhr.addEventListener('load', function () {
          if (xhr.status === 201 || xhr.status === 200) {
            button.disabled = false;
            progress(t('saved'), 100, 'saved');
            idempotencyKey = null;
            showResult(JSON.parse(xhr.responseText));
          } else {
            stopped(failure(xhr.status, xhr.responseText, xhr.getResponseHeader('Retry-After')));
          }
        });
        xhr.addEventListener('error', function () { stopped(new Error(t('networkError'))); });
        xhr.addEventListener('abort', function () { stopped(new Error(t('networkError'))); });
        stage = null;
        progress(t('uploading') + ' 0 %', 0, 'uploading');
        xhr.send(fd);
      }).catch(stopped);
    });

    $('refuse-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var documentType = formValue('documentType');
      if (!documentType) { showError($('documentType').labels[0].textContent); $('documentType').focus(); return; }
      var data = { ground: formValue('ground'), documentType: documentType };
      if (formValue('reason')) data.reason = formValue('reason');
      if (formValue('requesterName')) data.requesterName = formValue('requesterName');
      if (formValue('caseCode')) data.caseCode = formValue('caseCode');
      api('POST', '/api/v1/refusals', data)
        .then(function () { notice(t('refused')); e.target.reset(); })
        .catch(failed);
    });
    return;
  }

  // ---------------------------------------------------------------- admin
  if (page === 'account') {
    var pwForm = $('password-form');
    pwForm.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var button = pwForm.querySelector('button[type=submit]');
      button.disabled = true;
      api('POST', '/api/v1/session/password', { currentPassword: $('currentPassword').value, newPassword: $('newPassword').value })
        .then(function (s) {
          // The change ended every session; this one goes on with a new cookie and CSRF token.
          if (s) csrf = s.csrfToken;
          pwForm.reset();
          notice(t('passwordChanged'));
        }, failed)
        .then(function () { button.disabled = false; });
    });
  }

  if (page === 'admin') {
    var officers = $('officers-table').querySelector('tbody');
    var keys = $('keys-table').querySelector('tbody');
    function loadOfficers() {
      return api('GET', '/api/v1/officers?limit=200').then(function (r) {
        officers.textContent = '';
        r.items.forEach(function (o) {
          var disabled = !!o.disabledAt;
          var toggle = el('button', { type: 'button', class: 'small secondary', text: (disabled ? t('enable') : t('disable')) + ' ' + o.username });
          toggle.addEventListener('click', function () {
            // Disabling frees the officer's key, enabling takes it back: the offered keys change with it.
            api('PATCH', '/api/v1/officers/' + encodeURIComponent(o.id), { disabled: !disabled }).then(function () { notice(t('saved')); return reloadOfficers(o.username); }).catch(failed);
          });
          var change = el('button', { type: 'button', class: 'small secondary', text: t('edit') + ' ' + o.username });
          change.addEventListener('click', function () { editOfficer(o); });
          var reset = el('button', { type: 'button', class: 'small secondary', text: t('resetPassword') + ' ' + o.username });
          // The service makes the password and shows it once (never typed into a plain-text prompt).
          reset.addEventListener('click', function () {
            if (!window.confirm(t('resetConfirm') + ' ' + o.username)) return;
            api('PATCH', '/api/v1/officers/' + encodeURIComponent(o.id), { resetPassword: true }).then(function (r) {
              var box = $('new-password');
              box.textContent = '';
              box.appendChild(el('p', { class: 'warn', text: t('passwordOnce') + ' ' + o.username }));
              box.appendChild(el('p', null, [el('code', { class: 'secret', id: 'new-password-value', text: r.password })]));
              box.hidden = false;
              box.focus();
            }).catch(failed);
          });
          officers.appendChild(el('tr', { 'data-username': o.username }, [
            el('td', { text: o.username }), el('td', { text: o.displayName }), el('td', { text: o.title }), el('td', { text: t('role-' + o.role) }),
            el('td', { text: o.signingKeyLabel || '—' }), el('td', { text: disabled ? t('disabled') : t('active') }), el('td', null, [change, toggle, reset]),
          ]));
        });
      }).catch(function (err) { showError(err.message); });
    }
    /** The officers and the free keys drawn again; the focus goes to `username`'s row (the button pressed is gone). */
    function reloadOfficers(username) {
      return Promise.all([loadOfficers(), loadSigningKeys()]).then(function () {
        if (username) focusRow(officers.querySelector('tr[data-username="' + username + '"]'));
      });
    }
    // The personal key of a new officer: one of the tenant's keys that is neither the seal's nor held.
    var keyChoice = $('o-signingKeyLabel');
    var freeKeys = [];
    // With the name in its certificate: the officer given the key must bear it.
    function keyOption(k) { return el('option', { value: k.label, text: k.certificateName ? k.label + ' — ' + k.certificateName : k.label }); }
    function loadSigningKeys() {
      return api('GET', '/api/v1/signing-keys').then(function (r) {
        freeKeys = r.items.filter(function (k) { return k.use === 'free'; });
        while (keyChoice.options.length > 1) keyChoice.remove(1);
        freeKeys.forEach(function (k) { keyChoice.appendChild(keyOption(k)); });
      }).catch(function (err) { showError(err.message); });
    }
    // Editing an officer: name, title, role, and the personal key (theirs, a free one, or none) —
    // a renewed certificate comes with a new key.
    var editBox = $('officer-edit');
    var editing = null;
    var editOpener = null;
    function editOfficer(o) {
      editing = o;
      editOpener = document.activeElement;
      $('officer-edit-h').textContent = t('edit') + ' ' + o.username;
      $('e-displayName').value = o.displayName;
      $('e-title').value = o.title;
      $('e-role').value = o.role;
      var keySelect = $('e-signingKeyLabel');
      while (keySelect.options.length > 1) keySelect.remove(1);
      if (o.signingKeyLabel) keySelect.appendChild(el('option', { value: o.signingKeyLabel, text: o.signingKeyLabel }));
      freeKeys.forEach(function (k) { keySelect.appendChild(keyOption(k)); });
      keySelect.value = o.signingKeyLabel || '';
      editBox.hidden = false;
      editBox.focus();
    }
    $('officer-edit-close').addEventListener('click', function () {
      editBox.hidden = true;
      editing = null;
      if (editOpener && editOpener.isConnected) editOpener.focus();
    });
    $('officer-edit-form').addEventListener('submit', function (e) {
      e.preventDefault();
      if (!editing) return;
      var o = editing;
      var data = {};
      if (formValue('e-displayName') !== o.displayName) data.displayName = formValue('e-displayName');
      if (formValue('e-title') !== o.title) data.title = formValue('e-title');
      if (formValue('e-role') !== o.role) data.role = formValue('e-role');
      var key = formValue('e-signingKeyLabel') || null;
      if (key !== (o.signingKeyLabel || null)) data.signingKeyLabel = key;
      api('PATCH', '/api/v1/officers/' + encodeURIComponent(o.id), data).then(function () {
        editBox.hidden = true;
        editing = null;
        notice(t('saved'));
        return reloadOfficers(o.username);
      }).catch(failed);
    });
    function loadKeys() {
      return api('GET', '/api/v1/api-keys?limit=200').then(function (r) {
        keys.textContent = '';
        r.items.forEach(function (k) {
          var cell = el('td');
          if (!k.revokedAt) {
            var revoke = el('button', { type: 'button', class: 'small danger', text: t('revoke') + ' ' + k.name });
            revoke.addEventListener('click', function () {
              if (!window.confirm(t('confirmRevoke'))) return;
              api('DELETE', '/api/v1/api-keys/' + encodeURIComponent(k.id)).then(function () { notice(t('saved')); return loadKeys(); })
                .then(function () { focusRow(keys.querySelector('tr[data-prefix="' + k.prefix + '"]')); }, failed);
            });
            cell.appendChild(revoke);
          }
          keys.appendChild(el('tr', { 'data-prefix': k.prefix }, [
            el('td', { text: k.name }), el('td', { text: k.prefix }), el('td', { text: (k.scopes || []).join(', ') }),
            el('td', { text: k.revokedAt ? t('revoked') : t('active') }), cell,
          ]));
        });
      }).catch(function (err) { showError(err.message); });
    }
    $('officer-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var data = { username: formValue('o-username'), displayName: formValue('o-displayName'), title: formValue('o-title'), role: formValue('o-role'), password: $('o-password').value };
      if (formValue('o-signingKeyLabel')) data.signingKeyLabel = formValue('o-signingKeyLabel');
      api('POST', '/api/v1/officers', data).then(function () { e.target.reset(); notice(t('saved')); return reloadOfficers(null); }).catch(failed);
    });
    $('key-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var scopes = Array.prototype.map.call(e.target.querySelectorAll('input[name=scopes]:checked'), function (c) { return c.value; });
      var data = { name: formValue('k-name'), scopes: scopes };
      var cidrs = formValue('k-cidrs');
      if (cidrs) data.allowedCidrs = cidrs.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
      api('POST', '/api/v1/api-keys', data).then(function (r) {
        var box = $('new-key');
        box.textContent = '';
        box.appendChild(el('p', { class: 'warn', text: t('keyOnce') }));
        box.appendChild(el('p', null, [el('code', { class: 'secret', id: 'new-key-value', text: r.key })]));
        box.hidden = false;
        box.focus();
        e.target.reset();
        return loadKeys();
      }).catch(failed);
    });
    loadOfficers();
    loadSigningKeys();
    loadKeys();
  }
})();
