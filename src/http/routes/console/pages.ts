/**
 * The officer console's server-rendered shells. The data (registers, accounts, keys) is never in
 * the HTML: console.js asks the tenant-scoped JSON APIs for it with the session cookie, so each API
 * keeps deciding who sees what. Forms that carry passwords or personal data say method="post": should
 * the script not run, the browser must not put them in a URL (logs, history) by a GET submission.
 */
import { API_SCOPES, OFFICER_ROLES, PASSWORD_MIN_LENGTH } from '../../../registry/index.ts';
import { CONSOLE_MESSAGES, REFUSAL_GROUNDS, type ConsoleMessages } from './i18n.ts';
import { esc, field, layout, messageRegions, type Frame } from './layout.ts';

type PageFrame = Omit<Frame, 'title' | 'page'>;

const noScript = (m: ConsoleMessages) => `<noscript><p class="error">${esc(m.noScript)}</p></noscript>`;

export function renderLoginPage(f: Omit<PageFrame, 'who'>, next: string): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const body = `<h1>${esc(m.loginHeading)}</h1><p>${esc(m.loginLead)}</p>${noScript(m)}
<form id="login-form" class="card narrow" method="post" data-next="${esc(next)}">
${field('username', m.username, { required: true, attrs: 'autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64"' })}
${field('password', m.password, { type: 'password', required: true, attrs: 'autocomplete="current-password" maxlength="256"' })}
${messageRegions}
<button type="submit">${esc(m.loginButton)}</button></form>`;
  return layout({ ...f, who: null, page: 'login', title: m.loginHeading }, body);
}

export function renderCertifyPage(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const req = { required: true, requiredWord: m.required };
  const opt = { optional: m.optional };
  const grounds = REFUSAL_GROUNDS.map((g) => `<option value="${g}">${esc(m.grounds[g])}</option>`).join('');
  const types = m.documentTypes.map((t) => `<option value="${esc(t)}"></option>`).join('');
  const body = `<h1>${esc(m.certifyHeading)}</h1>${noScript(m)}${messageRegions}
<section class="card" aria-labelledby="files-h"><h2 id="files-h">${esc(m.filesHeading)}</h2><p>${esc(m.filesLead)}</p>
<div class="drop" id="drop-zone"><label for="files">${esc(m.chooseFiles)}</label><span class="hint" id="files-hint">${esc(m.filesHint)}</span>
<input type="file" id="files" multiple accept="application/pdf,image/jpeg,image/png,image/tiff,.pdf,.jpg,.jpeg,.png,.tif,.tiff" aria-describedby="files-hint"></div>
<ol id="file-list" class="file-list" aria-label="${esc(m.fileListLabel)}"></ol></section>
<section class="card" aria-labelledby="preview-h"><h2 id="preview-h">${esc(m.previewHeading)}</h2><p>${esc(m.previewLead)}</p>
<button type="button" id="preview-button" class="secondary">${esc(m.previewButton)}</button>
<div id="preview" class="preview" aria-live="polite"></div></section>
<form id="certify-form" class="card" method="post" aria-labelledby="meta-h"><h2 id="meta-h">${esc(m.metaHeading)}</h2>
<div class="grid">
${field('documentType', m.documentType, { ...req, hint: m.documentTypeHint, attrs: 'list="document-types" maxlength="200"' })}<datalist id="document-types">${types}</datalist>
${field('originalIssuer', m.originalIssuer, { ...req, attrs: 'maxlength="200"' })}
${field('requesterName', m.requesterName, { ...req, attrs: 'maxlength="200" autocomplete="off"' })}
${field('originalPages', m.originalPages, { ...req, type: 'number', attrs: 'min="1" max="9999" inputmode="numeric"' })}
${field('copies', m.copies, { ...req, type: 'number', attrs: 'min="1" max="999" value="1" inputmode="numeric"' })}
${field('caseCode', m.caseCode, { ...opt, attrs: 'maxlength="64"' })}
${field('receivingSite', m.receivingSite, { ...opt, attrs: 'maxlength="200"' })}
${field('notes', m.notes, { ...opt, type: 'textarea', attrs: 'maxlength="1000"' })}
</div>
<div class="progress" id="progress" hidden><label for="upload-progress" id="progress-label"></label><progress id="upload-progress" max="100" value="0"></progress></div>
<button type="submit" id="certify-button">${esc(m.certifyButton)}</button></form>
<section id="result" class="card result" aria-labelledby="result-h" hidden tabindex="-1"><h2 id="result-h">${esc(m.resultHeading)}</h2>
<p class="warn">${esc(m.accessOnce)}</p><dl class="fields" id="result-fields"></dl><p class="actions" id="result-actions"></p></section>
<details class="card refuse"><summary>${esc(m.refuseHeading)}</summary><p>${esc(m.refuseLead)}</p>
<form id="refuse-form" method="post">
<div class="field"><label for="ground">${esc(m.ground)}</label><select id="ground" name="ground" required>${grounds}</select></div>
${field('reason', m.refuseReason, { type: 'textarea', attrs: 'maxlength="1000"' })}
<button type="submit" class="danger">${esc(m.refuseButton)}</button></form></details>`;
  return layout({ ...f, page: 'certify', title: m.nav.certify }, body);
}

function registerTable(m: ConsoleMessages, id: string): string {
  const c = m.col;
  return `<div class="table-wrap"><table id="${id}" class="register"><thead><tr><th scope="col">${esc(c.number)}</th><th scope="col">${esc(c.time)}</th>
<th scope="col">${esc(c.documentType)}</th><th scope="col">${esc(c.requester)}</th><th scope="col">${esc(c.certifier)}</th><th scope="col">${esc(c.status)}</th>
<th scope="col">${esc(c.code)}</th><th scope="col">${esc(c.actions)}</th></tr></thead><tbody></tbody></table></div>`;
}

export function renderTodayPage(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const body = `<h1>${esc(m.todayHeading)}</h1><p>${esc(m.todayLead)}</p>${noScript(m)}${messageRegions}
${registerTable(m, 'today-table')}<button type="button" id="more" class="secondary" hidden>${esc(m.moreButton)}</button>`;
  return layout({ ...f, page: 'today', title: m.todayHeading }, body);
}

export function renderSearchPage(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const statuses = (['valid', 'annulled', 'void'] as const).map((s) => `<option value="${s}">${esc(m.statuses[s])}</option>`).join('');
  const mayAnnul = f.who?.scopes.includes('annul') ?? false;
  const annul = mayAnnul
    ? `<section id="annul" class="card" aria-labelledby="annul-h" hidden tabindex="-1"><h2 id="annul-h">${esc(m.annulHeading)} <span id="annul-target"></span></h2><p>${esc(m.annulLead)}</p>
<form id="annul-form" method="post">
${field('decisionNumber', m.decisionNumber, { required: true, requiredWord: m.required, attrs: 'maxlength="64"' })}
${field('decisionDate', m.decisionDate, { type: 'date', required: true, requiredWord: m.required })}
${field('annulReason', m.annulReason, { type: 'textarea', attrs: 'required maxlength="1000"' })}
<button type="submit" class="danger">${esc(m.annulButton)}</button> <button type="button" id="annul-cancel" class="secondary">${esc(m.js.cancel!)}</button></form></section>`
    : '';
  const body = `<h1>${esc(m.searchHeading)}</h1><p>${esc(m.searchLead)}</p>${noScript(m)}
<form id="search-form" class="card search"><div class="grid">
${field('number', m.number, { type: 'number', attrs: 'min="1" inputmode="numeric"' })}
${field('code', m.code, { attrs: 'maxlength="64" autocapitalize="characters" spellcheck="false"' })}
${field('from', m.from, { type: 'date' })}
${field('to', m.to, { type: 'date' })}
<div class="field"><label for="status">${esc(m.status)}</label><select id="status" name="status"><option value="">${esc(m.anyStatus)}</option>${statuses}</select></div>
${field('caseCode', m.caseCode, { attrs: 'maxlength="64"' })}
</div><button type="submit">${esc(m.searchButton)}</button></form>
${messageRegions}
${registerTable(m, 'search-table')}<button type="button" id="more" class="secondary" hidden>${esc(m.moreButton)}</button>
${annul}`;
  return layout({ ...f, page: 'search', title: m.searchHeading }, body);
}

/** Every officer's own account: change the password (POST /api/v1/session/password). */
export function renderAccountPage(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const body = `<h1>${esc(m.nav.account)}</h1><p>${esc(m.accountLead)}</p>${noScript(m)}
<form id="password-form" class="card narrow" method="post">
${field('currentPassword', m.currentPassword, { type: 'password', required: true, attrs: 'autocomplete="current-password" maxlength="256"' })}
${field('newPassword', m.js.newPassword!, { type: 'password', required: true, hint: m.passwordHint(PASSWORD_MIN_LENGTH), attrs: `autocomplete="new-password" minlength="${PASSWORD_MIN_LENGTH}" maxlength="256"` })}
${messageRegions}
<button type="submit">${esc(m.changePasswordButton)}</button></form>`;
  return layout({ ...f, page: 'account', title: m.nav.account }, body);
}

export function renderAdminPage(f: PageFrame): string {
  const m = CONSOLE_MESSAGES[f.lang];
  const roles = OFFICER_ROLES.map((r) => `<option value="${r}">${esc(m.roles[r])}</option>`).join('');
  const scopes = API_SCOPES.map(
    (s) => `<label class="check-label"><input type="checkbox" name="scopes" value="${s}"${s === 'validate' ? ' checked' : ''}> ${esc(s)}</label>`,
  ).join('');
  const body = `<h1>${esc(m.adminHeading)}</h1>${noScript(m)}${messageRegions}
<section aria-labelledby="officers-h"><h2 id="officers-h">${esc(m.officersHeading)}</h2>
<div id="new-password" class="card warn-box" hidden tabindex="-1"></div>
<div class="table-wrap"><table id="officers-table"><thead><tr><th scope="col">${esc(m.username)}</th><th scope="col">${esc(m.displayName)}</th><th scope="col">${esc(m.title)}</th>
<th scope="col">${esc(m.role)}</th><th scope="col">${esc(m.signingKey)}</th><th scope="col">${esc(m.status)}</th><th scope="col">${esc(m.col.actions)}</th></tr></thead><tbody></tbody></table></div>
<details class="card"><summary>${esc(m.newOfficer)}</summary><form id="officer-form" method="post"><div class="grid">
${field('o-username', m.username, { required: true, requiredWord: m.required, attrs: 'pattern="[a-z0-9._\\-]{3,64}" autocomplete="off" autocapitalize="none"' })}
${field('o-displayName', m.displayName, { required: true, requiredWord: m.required, attrs: 'maxlength="200"' })}
${field('o-title', m.title, { required: true, requiredWord: m.required, attrs: 'maxlength="200"' })}
<div class="field"><label for="o-role">${esc(m.role)}</label><select id="o-role" name="o-role">${roles}</select></div>
<div class="field"><label for="o-signingKeyLabel">${esc(m.signingKey)} <span class="opt">(${esc(m.optional)})</span></label><span class="hint" id="o-signingKeyLabel-hint">${esc(m.signingKeyHint)}</span>
<select id="o-signingKeyLabel" name="o-signingKeyLabel" aria-describedby="o-signingKeyLabel-hint"><option value="">${esc(m.noSigningKey)}</option></select></div>
${field('o-password', m.initialPassword, { type: 'password', required: true, requiredWord: m.required, hint: m.passwordHint(PASSWORD_MIN_LENGTH), attrs: `minlength="${PASSWORD_MIN_LENGTH}" autocomplete="new-password"` })}
</div><button type="submit">${esc(m.createButton)}</button></form></details>
<div class="card" id="officer-edit" hidden tabindex="-1"><h3 id="officer-edit-h">${esc(m.editOfficer)}</h3><form id="officer-edit-form" method="post" aria-labelledby="officer-edit-h"><div class="grid">
${field('e-displayName', m.displayName, { required: true, requiredWord: m.required, attrs: 'maxlength="200"' })}
${field('e-title', m.title, { required: true, requiredWord: m.required, attrs: 'maxlength="200"' })}
<div class="field"><label for="e-role">${esc(m.role)}</label><select id="e-role" name="e-role">${roles}</select></div>
<div class="field"><label for="e-signingKeyLabel">${esc(m.signingKey)} <span class="opt">(${esc(m.optional)})</span></label><span class="hint" id="e-signingKeyLabel-hint">${esc(m.signingKeyHint)}</span>
<select id="e-signingKeyLabel" name="e-signingKeyLabel" aria-describedby="e-signingKeyLabel-hint"><option value="">${esc(m.noSigningKey)}</option></select></div>
</div><button type="submit">${esc(m.saveButton)}</button> <button type="button" class="secondary" id="officer-edit-close">${esc(m.js.cancel!)}</button></form></div></section>
<section aria-labelledby="keys-h"><h2 id="keys-h">${esc(m.keysHeading)}</h2>
<div id="new-key" class="card warn-box" hidden tabindex="-1"></div>
<div class="table-wrap"><table id="keys-table"><thead><tr><th scope="col">${esc(m.keyName)}</th><th scope="col">prefix</th><th scope="col">${esc(m.scopes)}</th>
<th scope="col">${esc(m.status)}</th><th scope="col">${esc(m.col.actions)}</th></tr></thead><tbody></tbody></table></div>
<details class="card"><summary>${esc(m.newKey)}</summary><form id="key-form" method="post">
${field('k-name', m.keyName, { required: true, requiredWord: m.required, attrs: 'maxlength="100"' })}
<fieldset><legend>${esc(m.scopes)}</legend>${scopes}</fieldset>
${field('k-cidrs', m.cidrs, { hint: m.cidrsHint, optional: m.optional, attrs: 'maxlength="500"' })}
<button type="submit">${esc(m.createButton)}</button></form></details></section>`;
  return layout({ ...f, page: 'admin', title: m.adminHeading }, body);
}
