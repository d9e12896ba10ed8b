// qun web page: live updates over server-sent events, and small conveniences. Everything works
// without this script; with it, posts made elsewhere appear without a reload.
(function () {
  'use strict';

  document.documentElement.classList.add('js');
  // On a phone the sidebar folds behind "Menu".
  var menu = document.getElementById('menu-toggle');
  if (menu) {
    menu.addEventListener('click', function () {
      var side = menu.closest('.sidebar');
      var open = side.classList.toggle('open');
      menu.setAttribute('aria-expanded', String(open));
    });
  }
  // After a form: say that it was saved (the address says what), then tidy the address.
  (function () {
    var m = /[?&]saved=([a-z-]+)/.exec(location.search);
    var main = document.getElementById('main');
    if (!m || !main) return;
    // A page that already says it (the ledger's pages, also without this script) is only tidied.
    var said = main.querySelector('.saved-notice');
    var words = { petname: 'Your name for them saved.', profile: 'Profile saved.', 'profile-everywhere': 'Profile saved in all your communities.', role: 'Role saved.', about: 'Name and description saved.',
      policy: 'Admission policy saved.', roles: 'Role saved.', admitted: 'Member admitted.',
      removed: 'Member removed.', escrow: 'Paid into escrow.', review: 'Review posted.' };
    var n = document.createElement('div');
    n.className = 'notice ok saved-notice';
    n.id = 'saved-notice';
    n.setAttribute('role', 'status');
    n.textContent = words[m[1]] || 'Saved.';
    if (!said) main.insertBefore(n, main.firstChild);
    var q = location.search.replace(/([?&])saved=[a-z-]+&?/, '$1').replace(/[?&]$/, '');
    history.replaceState(null, '', location.pathname + q + location.hash);
  })();
  var live = document.querySelector('[data-live-src]');
  var reloadOn = document.querySelector('[data-reload-on]');
  var dot = document.getElementById('live-dot');
  var peers = document.getElementById('peer-count');
  var timer = null;
  var pending = false;
  var inflight = false;

  // Do not pull the list from under someone typing a reply or an edit.
  function busy() {
    if (!live) return false;
    var a = document.activeElement;
    return (a && live.contains(a) && (a.tagName === 'TEXTAREA' || a.tagName === 'INPUT')) ||
      live.querySelector('details[open]') !== null;
  }

  function refresh() {
    if (!live) return;
    if (busy() || inflight) { pending = true; return; }
    pending = false;
    inflight = true;
    fetch(live.getAttribute('data-live-src'), { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (html !== null) {
          live.innerHTML = html;
          live.setAttribute('data-refreshed', String(Date.now()));
        }
      })
      .catch(function () { pending = true; })
      .then(function () { inflight = false; if (pending && !busy()) schedule(); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  }

  function retryIfPending() {
    if (pending) setTimeout(function () { if (pending && !busy()) schedule(); }, 0);
  }
  document.addEventListener('focusout', retryIfPending);
  document.addEventListener('toggle', retryIfPending, true);

  function updatePeers() {
    if (!peers) return;
    fetch('/api/v1/status', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s) peers.textContent = s.connected_peers + (s.connected_peers === 1 ? ' peer' : ' peers');
      })
      .catch(function () {});
  }

  // One event stream per open page. Close it when the page is hidden (navigation, back-forward
  // cache): browsers allow only six connections per host over HTTP/1.1, and a cached page
  // holding its stream open would stall the next page loads.
  var es = null;
  function onEvent(m) {
    var e;
    try { e = JSON.parse(m.data); } catch (_) { return; }
    var community = live && live.getAttribute('data-live-community');
    if (e.type === 'change' && e.community === community) schedule();
    if (e.type === 'change' && e.origin !== 'local') scheduleUnread();
    // The node reloaded its state from its store: what it could not store is gone.
    if (e.type === 'store_recovered' && community) schedule();
    if (reloadOn && e.community === reloadOn.getAttribute('data-reload-on') &&
        (e.type === 'community_added' || e.type === 'membership' || e.type === 'change')) {
      location.reload();
    }
    // Our membership here changed (admitted, a new role, removed): what the page offers changed
    // with it. Reload, unless that would throw away text being typed: then say so.
    if (e.type === 'membership' && community && e.community === community) membershipChanged();
    if (e.type === 'peer_connected' || e.type === 'peer_disconnected') updatePeers();
    if (e.type === 'synced' && reloadOn && e.community === reloadOn.getAttribute('data-reload-on')) {
      var p = document.getElementById('sync-progress');
      if (p) {
        received += e.received;
        p.textContent = 'Received ' + received + ' changes' + (e.more ? '; more to come…' : '.');
      }
    }
  }
  var received = 0;
  // Unread notifications: the sidebar's counts and the title's (N), fetched now and after
  // changes arrive (at most once a second).
  var notifLink = document.getElementById('notif-link');
  var baseTitle = document.title;
  var unreadTimer = null;
  function showCount(el, n) {
    if (!el) return;
    el.textContent = n > 99 ? '99+' : String(n);
    el.hidden = n === 0;
  }
  function updateUnread() {
    if (!notifLink) return;
    fetch('/api/v1/notifications?unread=true', { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (n) {
        if (!n) return;
        showCount(document.getElementById('notif-count'), n.unread);
        showCount(document.querySelector('[data-menu-count]'), n.unread);
        document.querySelectorAll('[data-unread-for]').forEach(function (el) {
          showCount(el, n.unread_by_community[el.getAttribute('data-unread-for')] || 0);
        });
        document.title = (n.unread > 0 ? '(' + n.unread + ') ' : '') + baseTitle;
        document.body.setAttribute('data-unread', String(n.unread));
      })
      .catch(function () {});
  }
  function scheduleUnread() {
    if (!notifLink || unreadTimer) return;
    unreadTimer = setTimeout(function () { unreadTimer = null; updateUnread(); }, 1000);
  }
  updateUnread();
  function membershipChanged() {
    var typing = Array.prototype.some.call(document.querySelectorAll('textarea, input[type=text]'),
      function (t) { return t.value.trim() !== '' && t.defaultValue !== t.value; });
    if (!typing) { location.reload(); return; }
    if (document.getElementById('membership-changed')) return;
    var n = document.createElement('div');
    n.className = 'notice warn';
    n.id = 'membership-changed';
    n.setAttribute('role', 'status');
    n.appendChild(document.createTextNode('Your membership here changed. '));
    var a = document.createElement('a');
    a.href = location.href;
    a.textContent = 'Reload';
    n.appendChild(a);
    n.appendChild(document.createTextNode(' to see what you may do now (what you typed is not sent).'));
    live.parentNode.insertBefore(n, live.parentNode.firstChild);
  }
  function connect() {
    if (!window.EventSource || es) return;
    es = new EventSource('/api/v1/events');
    es.onopen = function () {
      if (dot) dot.classList.add('on');
      document.body.setAttribute('data-live', 'on');
    };
    es.onerror = function () {
      if (dot) dot.classList.remove('on');
      document.body.setAttribute('data-live', 'off');
    };
    es.addEventListener('lagged', schedule);
    es.onmessage = onEvent;
  }
  function disconnect() {
    if (es) { es.close(); es = null; }
    if (dot) dot.classList.remove('on');
    document.body.setAttribute('data-live', 'off');
  }
  window.addEventListener('pagehide', disconnect);
  window.addEventListener('pageshow', function (ev) {
    if (ev.persisted) {
      // Back from the cache: catch up on what was missed, then follow again.
      connect();
      schedule();
      updatePeers();
    }
  });
  connect();

  // Ask before destructive forms; copy buttons; Ctrl/Cmd+Enter sends a textarea's form.
  // Posts are limited in bytes (UTF-8), not characters: a text over the limit is refused with
  // the reason before it is sent (never cut silently), and a counter shows near the limit.
  document.addEventListener('input', function (ev) {
    var t = ev.target;
    var max = t.getAttribute && Number(t.getAttribute('data-max-bytes'));
    if (!max) return;
    var n = new TextEncoder().encode(t.value).length;
    t.setCustomValidity(n > max
      ? 'Too long: ' + n + ' bytes, at most ' + max + ' (a character of Chinese, Japanese or Korean takes 3 bytes, an emoji 4).'
      : '');
    var c = t.form && t.form.querySelector('.byte-count');
    if (c) c.textContent = n > max * 0.8 ? n + ' / ' + max + ' bytes' : '';
  });

  // A form is sent once: further clicks while the page waits for the answer do nothing (its
  // buttons are disabled after the browser took their value; the server also edits once per
  // form `nonce`). Back to a page whose form was sent finds it empty and usable again.
  document.addEventListener('submit', function (ev) {
    var f = ev.target;
    var msg = f.getAttribute && f.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) { ev.preventDefault(); return; }
    if (f.getAttribute('data-sending')) { ev.preventDefault(); return; }
    f.setAttribute('data-sending', '1');
    saveDraft(f);
    setTimeout(function () {
      f.querySelectorAll('button[type=submit], button:not([type])').forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // What was typed survives an error: the form's fields are kept for this tab when it is sent;
  // an error page notes the time; Back to the form then finds what was typed (from the
  // browser's cache, or put back from the draft), never an empty form.
  var DRAFT = 'qun-draft';
  function fields(f) {
    return Array.prototype.filter.call(f.elements, function (e) {
      return e.name && !e.disabled && (e.tagName === 'TEXTAREA' || e.tagName === 'SELECT' ||
        (e.tagName === 'INPUT' && /^(text|search|url|email|number)$/.test(e.type)));
    });
  }
  function saveDraft(f) {
    try {
      var d = {};
      fields(f).forEach(function (e) { d[e.name] = e.value; });
      sessionStorage.setItem(DRAFT, JSON.stringify({ action: f.getAttribute('action'), at: Date.now(), fields: d }));
    } catch (e) { /* storage off */ }
  }
  function failedSince(t) {
    try { return Number(sessionStorage.getItem('qun-error-at') || 0) >= t; } catch (e) { return false; }
  }
  if (document.querySelector('.error-card:not([data-login-needed])')) {
    try { sessionStorage.setItem('qun-error-at', String(Date.now())); } catch (e) { /* storage off */ }
  } else {
    try {
      var draft = JSON.parse(sessionStorage.getItem(DRAFT) || 'null');
      if (draft && Date.now() - draft.at < 600000 && failedSince(draft.at)) {
        document.querySelectorAll('form').forEach(function (f) {
          if (f.getAttribute('action') !== draft.action) return;
          fields(f).forEach(function (e) {
            if (Object.prototype.hasOwnProperty.call(draft.fields, e.name) && !e.value) e.value = draft.fields[e.name];
          });
          f.setAttribute('data-restored', '1');
        });
        sessionStorage.removeItem(DRAFT);
      }
    } catch (e) { /* nothing to put back */ }
  }
  window.addEventListener('pageshow', function () {
    var sentAt = 0;
    try { sentAt = (JSON.parse(sessionStorage.getItem(DRAFT) || 'null') || { at: 0 }).at; } catch (e) { sentAt = 0; }
    var failed = sentAt > 0 && failedSince(sentAt);
    document.querySelectorAll('form[data-sending]').forEach(function (f) {
      f.removeAttribute('data-sending');
      f.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
      var nonce = f.querySelector('input[name=nonce]');
      if (nonce) {
        // What was typed was sent (unless it came back with an error): start empty, as a new
        // form; either way, a new try gets a new key.
        if (!failed) f.reset();
        else try { sessionStorage.removeItem(DRAFT); } catch (e) { /* storage off */ }
        var r = new Uint8Array(16);
        crypto.getRandomValues(r);
        nonce.value = Array.prototype.map.call(r, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
      }
    });
  });
  // Not logged in: remember where the member was going (an invite link's code included), and
  // go there once the login link has opened the home page (within 10 minutes, same origin).
  if (document.querySelector('[data-login-needed]')) {
    if (location.pathname !== '/login' && location.pathname !== '/') {
      try {
        localStorage.setItem('qun-return', JSON.stringify({ to: location.pathname + location.search + location.hash, at: Date.now() }));
      } catch (e) { /* storage off: the member starts from the home page */ }
    }
  } else if (location.pathname === '/' && /[?&]login=1/.test(location.search)) {
    // Only right after a login, and only to a join page or a community page.
    try {
      history.replaceState(null, '', '/');
      var back = JSON.parse(localStorage.getItem('qun-return') || 'null');
      localStorage.removeItem('qun-return');
      if (back && typeof back.to === 'string' && /^\/(join([?#]|$)|c\/)/.test(back.to) &&
          back.to.indexOf('//') < 0 && back.to.indexOf('\\') < 0 && Date.now() - back.at < 600000) {
        location.replace(back.to);
      }
    } catch (e) { /* nothing to go back to */ }
  }
  // An invite link carries its code after '#': put it in the form, then take it out of the
  // address bar (and history), so it is not left lying around.
  document.querySelectorAll('[data-from-fragment]').forEach(function (t) {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf(t.getAttribute('data-from-fragment')) === 0 && !t.value) {
      t.value = h;
      history.replaceState(null, '', location.pathname + location.search);
    }
  });
  // Completing @mentions from the names of the community's members.
  var namesEl = document.getElementById('member-names');
  var memberNames = [];
  try { memberNames = namesEl ? JSON.parse(namesEl.textContent) : []; } catch (e) { memberNames = []; }
  var mbox = null;
  function closeMentions() { if (mbox) { mbox.remove(); mbox = null; } }
  function pickMention(t, typed, name) {
    var pos = t.selectionStart;
    t.value = t.value.slice(0, pos - typed.length) + name + ' ' + t.value.slice(pos);
    var at = pos - typed.length + name.length + 1;
    t.setSelectionRange(at, at);
    closeMentions();
    t.dispatchEvent(new Event('input', { bubbles: true }));
  }
  function markMention() {
    if (!mbox) return;
    var i = Number(mbox.getAttribute('data-index'));
    Array.prototype.forEach.call(mbox.children, function (li, j) { li.setAttribute('aria-selected', String(i === j)); });
  }
  document.addEventListener('input', function (ev) {
    var t = ev.target;
    if (t.tagName !== 'TEXTAREA' || !memberNames.length) return;
    closeMentions();
    var m = /(^|[^\w@])@([^\s@]{0,30})$/.exec(t.value.slice(0, t.selectionStart));
    if (!m) return;
    var q = m[2].toLowerCase();
    var hits = memberNames.filter(function (n) {
      return n.toLowerCase().replace(/\s+/g, '').indexOf(q) === 0 || n.toLowerCase().indexOf(q) === 0;
    }).slice(0, 6);
    if (!hits.length) return;
    mbox = document.createElement('ul');
    mbox.className = 'mention-box';
    mbox.setAttribute('role', 'listbox');
    mbox.setAttribute('data-index', '0');
    hits.forEach(function (n) {
      var li = document.createElement('li');
      li.textContent = n;
      li.setAttribute('role', 'option');
      li.addEventListener('mousedown', function (e) { e.preventDefault(); pickMention(t, m[2], n); });
      mbox.appendChild(li);
    });
    mbox.typed = m[2];
    mbox.target = t;
    t.parentNode.insertBefore(mbox, t.nextSibling);
    markMention();
  });
  document.addEventListener('keydown', function (ev) {
    if (!mbox || ev.target !== mbox.target) return;
    var i = Number(mbox.getAttribute('data-index'));
    var n = mbox.children.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      mbox.setAttribute('data-index', String((i + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n));
      markMention();
    } else if ((ev.key === 'Enter' && !ev.ctrlKey && !ev.metaKey) || ev.key === 'Tab') {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      pickMention(mbox.target, mbox.typed, mbox.children[i].textContent);
    } else if (ev.key === 'Escape') {
      closeMentions();
    }
  }, true);
  document.addEventListener('focusout', function () { setTimeout(closeMentions, 150); });

  // Copy a link to a post (this node's address: the post is at the same path on every node).
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('[data-copy-path]');
    if (!b) return;
    var url = location.origin + b.getAttribute('data-copy-path');
    var done = function () { b.setAttribute('data-copied', url); b.title = 'Copied'; };
    if (navigator.clipboard) navigator.clipboard.writeText(url).then(done, done); else done();
  });
  document.addEventListener('click', function (ev) {
    var b = ev.target.closest && ev.target.closest('[data-copy]');
    if (!b) return;
    var t = document.getElementById(b.getAttribute('data-copy'));
    if (!t) return;
    var text = t.value || t.textContent;
    var done = function () { b.lastChild.textContent = 'Copied'; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(done, function () { t.select(); });
    } else {
      t.select();
    }
  });
  // "Attach image": the file goes to this node (POST /api/v1/blobs, same origin, with the
  // session cookie) and the composer gets `![name](/blob/<id>)` where the cursor is. A file
  // over the node's limit is refused before it is sent; on any error the message says why and
  // nothing typed is touched.
  document.querySelectorAll('[data-attach-max]').forEach(function (l) { l.hidden = false; });
  function mib(n) { return (n / 1048576).toFixed(n < 1048576 ? 2 : 1) + ' MiB'; }
  function insertAtCursor(ta, text) {
    var v = ta.value, s = ta.selectionStart, e = ta.selectionEnd;
    if (typeof s !== 'number' || document.activeElement !== ta) { s = e = v.length; }
    var before = v.slice(0, s), after = v.slice(e);
    var pre = before && !/\s$/.test(before) ? '\n' : '';
    ta.value = before + pre + text + after;
    ta.dispatchEvent(new Event('input', { bubbles: true }));
  }
  document.addEventListener('change', function (ev) {
    var input = ev.target;
    if (input.hasAttribute && input.hasAttribute('data-clears') && input.form) {
      var field = input.form.querySelector('input[name=' + input.getAttribute('data-clears') + ']');
      var preview = document.getElementById('avatar-preview');
      if (input.checked) {
        input.setAttribute('data-was', field.value);
        field.value = '';
        if (preview) preview.hidden = true;
      } else {
        field.value = input.getAttribute('data-was') || '';
        if (preview) preview.hidden = !field.value;
      }
      return;
    }
    if (!input.classList) return;
    var avatar = input.classList.contains('avatar-input');
    if (!avatar && !input.classList.contains('attach-input')) return;
    var label = input.closest('[data-attach-max]');
    var form = input.form;
    var ta = form && (avatar ? form.querySelector('input[name=avatar]') : form.querySelector('textarea[name=text]'));
    var status = form && form.querySelector('.attach-status');
    var file = input.files && input.files[0];
    input.value = '';
    if (!file || !ta || !label) return;
    function say(text, bad) {
      if (!status) return;
      status.textContent = text;
      status.classList.toggle('error', !!bad);
    }
    var max = Number(label.getAttribute('data-attach-max'));
    if (max && file.size > max) {
      var exact = mib(file.size) === mib(max);
      var size = exact ? file.size + ' bytes' : mib(file.size);
      var most = exact ? max + ' bytes' : mib(max);
      say('Not attached: ' + file.name + ' is ' + size + ', and images of at most ' + most + ' can be attached. Scale it down and try again.', true);
      return;
    }
    say('Uploading ' + file.name + '…');
    fetch('/api/v1/blobs', {
      method: 'POST', body: file, credentials: 'same-origin',
      headers: { 'Content-Type': 'application/octet-stream' }
    })
      .then(function (r) {
        return r.json().then(function (j) { return { ok: r.ok, j: j }; }, function () { return { ok: false, j: null }; });
      })
      .then(function (res) {
        if (!res.ok) {
          say('Not attached: ' + ((res.j && res.j.error) || 'the node refused the file') + '.', true);
          return;
        }
        if (avatar) {
          if (!res.j.inline) { say('Not used: a picture must be a PNG, JPEG, GIF or WebP image.', true); return; }
          ta.value = res.j.id;
          var preview = document.getElementById('avatar-preview');
          if (preview) { preview.src = res.j.url + '?thumb=1'; preview.hidden = false; }
          say('Chosen: ' + file.name + '. Save the profile to use it.');
          return;
        }
        var alt = file.name.replace(/\.[^.]*$/, '').replace(/[\[\]()\\!\r\n]/g, ' ').trim() || 'image';
        insertAtCursor(ta, '![' + alt + '](' + res.j.url + ')');
        say('Attached ' + file.name + (res.j.inline ? '' : ' (as a download: not an image a page shows)') + '.');
      })
      .catch(function () { say('Not attached: the node did not answer.', true); });
  });
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && ev.target.tagName === 'TEXTAREA' && ev.target.form) {
      ev.preventDefault();
      if (ev.target.form.requestSubmit) ev.target.form.requestSubmit(); else ev.target.form.submit();
    }
  });
})();
