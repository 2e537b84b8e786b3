import type { EmulatedUser } from './users.js';

/**
 * The verification page, the emulator's "microsoft.com/devicelogin": type the code, pick who
 * signs in, Approve or Deny. One self-contained HTML document (no scripts, fonts or images from
 * elsewhere), readable on a phone.
 */

export interface PageModel {
  /** Prefilled code (from ?code=, or what was just typed). */
  userCode?: string;
  users: readonly EmulatedUser[];
  selectedUserId?: string;
  /** A result or error line shown above the form. */
  notice?: { kind: 'ok' | 'error'; title: string; detail: string };
  /** Codes waiting for someone, shown as links: the emulator's convenience, not Entra's. */
  pendingCodes: readonly string[];
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
  :root { color-scheme: light dark; --accent: #0067b8; --ok: #107c10; --err: #c50f1f; }
  * { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; padding: 2rem 1rem;
         background: Canvas; color: CanvasText; }
  main { max-width: 26rem; margin: 0 auto; padding: 1.5rem; border: 1px solid #8884; border-radius: 8px; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  p.lead { margin: 0 0 1.25rem; opacity: .8; }
  label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
  input, select { width: 100%; font: inherit; padding: .5rem .6rem; border: 1px solid #8888; border-radius: 4px;
                  background: Field; color: FieldText; }
  input[name=user_code] { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1.3rem;
                          letter-spacing: .15em; text-transform: uppercase; }
  .buttons { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { flex: 1; font: inherit; font-weight: 600; padding: .6rem; border-radius: 4px; cursor: pointer;
           border: 1px solid var(--accent); }
  button[value=approve] { background: var(--accent); color: #fff; }
  button[value=deny] { background: transparent; color: inherit; border-color: #8888; }
  .notice { padding: .75rem 1rem; border-radius: 4px; margin-bottom: 1rem; border-left: 4px solid; }
  .notice.ok { border-color: var(--ok); background: #107c1018; }
  .notice.error { border-color: var(--err); background: #c50f1f18; }
  .notice strong { display: block; }
  .pending { margin-top: 1.5rem; font-size: .9rem; opacity: .85; }
  .pending a { font-family: ui-monospace, Menlo, Consolas, monospace; margin-right: .75rem; }
  footer { text-align: center; font-size: .8rem; opacity: .6; margin-top: 1rem; }
`;

export function renderPage(model: PageModel): string {
  const notice = model.notice
    ? `<div class="notice ${model.notice.kind}" role="${model.notice.kind === 'error' ? 'alert' : 'status'}"><strong>${escapeHtml(model.notice.title)}</strong>${escapeHtml(model.notice.detail)}</div>`
    : '';
  const options = model.users
    .map((u) => {
      const selected = u.id === model.selectedUserId ? ' selected' : '';
      return `<option value="${escapeHtml(u.id)}"${selected}>${escapeHtml(u.displayName)} (${escapeHtml(u.userPrincipalName)})</option>`;
    })
    .join('');
  const pending = model.pendingCodes.length
    ? `<div class="pending">Waiting on this emulator: ${model.pendingCodes
        .map((c) => `<a href="/devicelogin?code=${encodeURIComponent(c)}">${escapeHtml(c)}</a>`)
        .join('')}</div>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Enter code - identity emulator</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>Enter code</h1>
<p class="lead">Enter the code shown on your device to allow it to sign in.</p>
${notice}
<form method="post" action="/devicelogin">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${escapeHtml(model.userCode ?? '')}" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
<label for="user">Sign in as</label>
<select id="user" name="user">${options}</select>
<div class="buttons">
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</div>
</form>
${pending}
</main>
<footer>graph-device-agent identity emulator: not Microsoft Entra ID</footer>
</body>
</html>
`;
}
