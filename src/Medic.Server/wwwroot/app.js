// The console's browser side: state-changing calls go to the control plane's own API from the
// browser, with the session cookie and its antiforgery token, so the server applies exactly the
// permissions, validation, audit and rate limits it applies to any API call.
window.medic = (() => {
  let token = null;

  async function antiforgery(refresh) {
    if (token && !refresh) return token;
    const r = await fetch('/api/v1/auth/antiforgery', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!r.ok) throw new Error('GET /api/v1/auth/antiforgery answered ' + r.status);
    const j = await r.json();
    token = { header: j.header_name, value: j.token };
    return token;
  }

  // Returns { status, body } whatever the status; the caller reads problem details from body.
  async function call(method, url, body) {
    for (let attempt = 0; ; attempt++) {
      const t = await antiforgery(attempt > 0);
      const headers = { Accept: 'application/json' };
      headers[t.header] = t.value;
      if (body != null) headers['Content-Type'] = 'application/json';
      const r = await fetch(url, { method, credentials: 'same-origin', headers, body: body ?? undefined });
      const text = await r.text();
      // A token issued before the session changed is refused once; fetch a fresh one and retry.
      if (r.status === 403 && attempt === 0 && text.includes('Antiforgery')) continue;
      return { status: r.status, body: text };
    }
  }

  // navigator.clipboard needs a secure context (https, or localhost); a console served over plain
  // http on another address falls back to a selected text area.
  async function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'offscreen';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }

  return { call, copy };
})();
