/*
 * Tidings tracker (t.js): page views, custom events, identify and consent for one site.
 *
 * Loaded by the snippet, which queues calls in tidings.q and sets data-site (the site key) and
 * data-endpoint (the Tidings base URL) on this script's tag. Optional attributes: data-auto="0"
 * (no automatic page views), data-hash="1" (a change of the #fragment is a new page),
 * data-cookie-domain=".example.org" (share the visitor id with the site's subdomains; ignored unless
 * the page is on that domain).
 *
 *   tidings('pageview', {url, title})   tidings('event', name, {props})
 *   tidings('identify', {email, ...})   tidings('consent', {tracking: true, marketing_email: false})
 *
 * Privacy: no third-party cookie and no fingerprint. The only thing stored is the visitor id the
 * server hands out when the visitor may be profiled (first-party cookie _tdv and localStorage);
 * it is deleted when the server answers null. With Global Privacy Control or Do Not Track the
 * hits carry gpc/dnt and no id is ever stored. Identify and consent hits never go into a URL.
 * CSP: needs script-src, connect-src and img-src for the Tidings host; no eval, no inline code.
 * Dependency-free ES2017; served as is (no build step).
 */
(function (w, d) {
  'use strict';
  if (w.tidings && w.tidings.loaded) return;

  var VERSION = 1;
  var COOKIE = '_tdv';
  var YEAR = 31536000;
  var MAX_BODY = 16000; // the endpoint takes at most 16 KiB
  var MAX_BATCH = 50;
  var EVENT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
  var VISITOR_ID = /^[A-Za-z0-9._-]{1,64}$/; // opaque: "<id>.<signature>" today

  var tag = d.currentScript || d.querySelector('script[data-site][src*="/t.js"]');
  var key = tag && tag.getAttribute('data-site');
  if (!key) return warn('no data-site on the script tag; nothing is tracked');
  var base = (tag.getAttribute('data-endpoint') || new URL(tag.src).origin).replace(/\/+$/, '');
  var auto = tag.getAttribute('data-auto') !== '0';
  var withHash = tag.getAttribute('data-hash') === '1';
  var cookieDomain = sharedDomain(tag.getAttribute('data-cookie-domain'));
  var nav = w.navigator;
  var gpc = nav.globalPrivacyControl === true;
  var dnt = nav.doNotTrack === '1' || w.doNotTrack === '1';
  var withdrawn = false; // tracking consent withdrawn on this page: an answer still in flight must not re-store

  var pending = [];
  var sending = false;
  var answered = false; // a first answer fixes the visitor id before hits are batched
  var lastPage = null;
  var lastUrl = d.referrer;

  function warn(message) {
    if (w.console) w.console.warn('tidings: ' + message);
  }

  // ---- the visitor id (first-party, only while the server allows it) ----

  // "; Domain=.example.org" when the page's host is that domain or under it; "" (host-only) otherwise.
  function sharedDomain(value) {
    var domain = (value || '').toLowerCase().replace(/^\.+/, '');
    var host = w.location.hostname.toLowerCase();
    if (!/^[a-z0-9.-]{1,253}$/.test(domain) || domain.indexOf('.') < 0) return '';
    return host === domain || host.slice(-domain.length - 1) === '.' + domain ? '; Domain=' + domain : '';
  }

  function readId() {
    var match = d.cookie.match(/(?:^|;\s*)_tdv=([^;]*)/);
    var id = match ? match[1] : null;
    if (!id) {
      try { id = w.localStorage.getItem(COOKIE); } catch (e) { id = null; }
    }
    return id && VISITOR_ID.test(id) ? id : null;
  }

  function storeId(id) {
    var secure = w.location.protocol === 'https:' ? '; Secure' : '';
    d.cookie = COOKIE + '=' + id + '; Path=/; Max-Age=' + YEAR + '; SameSite=Lax' + cookieDomain + secure;
    try { w.localStorage.setItem(COOKIE, id); } catch (e) { /* storage blocked: the cookie holds it */ }
  }

  function forgetId() {
    d.cookie = COOKIE + '=; Path=/; Max-Age=0; SameSite=Lax' + cookieDomain;
    if (cookieDomain) d.cookie = COOKIE + '=; Path=/; Max-Age=0; SameSite=Lax'; // a host-only one from before
    try { w.localStorage.removeItem(COOKIE); } catch (e) { /* nothing stored there */ }
  }

  function learn(answer) {
    answered = true;
    if (!answer || !('v' in answer)) return;
    if (answer.v === null) forgetId();
    else if (!gpc && !dnt && !withdrawn && typeof answer.v === 'string' && VISITOR_ID.test(answer.v)) storeId(answer.v);
  }

  // ---- hits ----

  function eventId() {
    var bytes = new Uint8Array(16);
    w.crypto.getRandomValues(bytes);
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function hit(type, fields) {
    var h = {k: key, id: eventId(), t: type, u: w.location.href};
    Object.keys(fields).forEach(function (name) {
      if (fields[name] !== undefined && fields[name] !== null && fields[name] !== '') h[name] = fields[name];
    });
    if (gpc) h.gpc = 1;
    if (dnt) h.dnt = 1;
    pending.push(h);
    flush();
  }

  function pageKey(url) {
    return withHash ? url : url.split('#')[0];
  }

  function pageview(options) {
    options = options || {};
    var url = options.url ? new URL(options.url, w.location.href).href : w.location.href;
    var fields = {u: url, r: lastUrl, ti: options.title || d.title, l: nav.language, sc: screenSize(), tz: timeZone()};
    lastPage = pageKey(url);
    lastUrl = url;
    hit('pageview', fields);
  }

  function screenSize() {
    return w.screen ? w.screen.width + 'x' + w.screen.height : undefined;
  }

  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return undefined; }
  }

  function strings(fields) {
    var out = {};
    Object.keys(fields || {}).forEach(function (name) {
      var value = fields[name];
      if (value !== undefined && value !== null && typeof value !== 'object') out[name] = String(value);
    });
    return out;
  }

  function booleans(purposes) {
    var out = {};
    Object.keys(purposes || {}).forEach(function (name) {
      if (typeof purposes[name] === 'boolean') out[name] = purposes[name];
    });
    return out;
  }

  var commands = {
    pageview: pageview,
    event: function (name, props) {
      if (!EVENT_NAME.test(String(name))) return warn('an event name is 1-64 of A-Z a-z 0-9 _ . : -');
      hit('event', {n: String(name), p: props && typeof props === 'object' ? props : undefined});
    },
    identify: function (fields) {
      hit('identify', {f: strings(fields)});
    },
    consent: function (purposes) {
      var given = booleans(purposes);
      if ('tracking' in given) withdrawn = !given.tracking;
      if (withdrawn) forgetId(); // gone now, not after the answer
      hit('consent', {c: given});
    },
  };

  // ---- sending: fetch (reads the answer), else sendBeacon, else the image pixel ----

  function flush() {
    if (sending || !pending.length) return;
    var batch = take(answered ? MAX_BATCH : 1);
    if (!batch.length) return;
    sending = true;
    new Promise(function (resolve) { resolve(post(batch)); }).then(learn, function () {
      if (!beacon(batch)) batch.forEach(pixel);
    }).then(function () {
      sending = false;
      flush();
    });
  }

  function withVisitor(h) {
    var id = readId();
    if (id) h.v = id;
    return h;
  }

  // Take up to max pending hits that fit in one body (a hit too big alone is dropped with a warning).
  function take(max) {
    var batch = [];
    while (pending.length && batch.length < max) {
      var next = withVisitor(pending[0]);
      if (JSON.stringify(batch.concat([next])).length > MAX_BODY - 100) {
        if (!batch.length) { pending.shift(); warn('a hit larger than 16 KiB was dropped'); continue; }
        break;
      }
      batch.push(pending.shift());
    }
    return batch;
  }

  function body(batch) {
    return JSON.stringify(batch.length === 1 ? batch[0] : {k: key, hits: batch});
  }

  // text/plain keeps the request "simple": no CORS preflight. No credentials: the endpoint needs none.
  function post(batch) {
    if (!w.fetch) return Promise.reject(new Error('no fetch'));
    return w.fetch(base + '/t/collect', {
      method: 'POST', body: body(batch), keepalive: true, credentials: 'omit', mode: 'cors',
      headers: {'Content-Type': 'text/plain;charset=UTF-8'},
    }).then(function (response) {
      return response.json().catch(function () { return null; });
    });
  }

  function beacon(batch) {
    try {
      var blob = new Blob([body(batch)], {type: 'text/plain;charset=UTF-8'});
      return !!(nav.sendBeacon && nav.sendBeacon(base + '/t/collect', blob));
    } catch (e) {
      return false;
    }
  }

  // The pixel carries page views and events only: identify fields and consent never go into a URL.
  var PIXEL_KEYS = ['k', 'id', 't', 'u', 'r', 'ti', 'l', 'tz', 'sc', 'n', 'v', 'gpc', 'dnt'];
  function pixel(h) {
    if (h.t !== 'pageview' && h.t !== 'event') return;
    var query = PIXEL_KEYS.filter(function (name) { return h[name] !== undefined; }).map(function (name) {
      return name + '=' + encodeURIComponent(String(h[name]).slice(0, 1000));
    });
    new Image().src = base + '/t/p.gif?' + query.join('&');
  }

  // When the page goes away, hand what is still pending to the browser (beacons outlive the page).
  function drain() {
    while (pending.length) {
      var batch = take(MAX_BATCH);
      if (!batch.length) break;
      if (!beacon(batch)) batch.forEach(pixel);
    }
  }
  w.addEventListener('pagehide', drain);
  d.addEventListener('visibilitychange', function () {
    if (d.visibilityState === 'hidden') drain();
  });

  // ---- automatic page views: on load and on single-page-app route changes ----

  function autoPageview() {
    if (pageKey(w.location.href) !== lastPage) pageview();
  }

  function watchHistory() {
    ['pushState', 'replaceState'].forEach(function (name) {
      var original = w.history[name];
      w.history[name] = function () {
        var result = original.apply(this, arguments);
        setTimeout(autoPageview, 0); // after the app has had a chance to set the new title
        return result;
      };
    });
    w.addEventListener('popstate', function () { setTimeout(autoPageview, 0); });
    if (withHash) w.addEventListener('hashchange', autoPageview);
  }

  // ---- the live function replaces the snippet's queue ----

  function tidings(command) {
    var run = commands[command];
    if (!run) return warn('unknown command ' + String(command));
    try {
      run.apply(null, Array.prototype.slice.call(arguments, 1));
    } catch (e) {
      warn(command + ' failed: ' + e.message);
    }
  }
  tidings.loaded = true;
  tidings.version = VERSION;

  var queued = (w.tidings && w.tidings.q) || [];
  w.tidings = tidings;
  for (var i = 0; i < queued.length; i++) tidings.apply(null, queued[i]);
  if (auto) {
    autoPageview();
    watchHistory();
  }
})(window, document);
