/*
 * Tidings' mtc.js: Mautic's tracking snippet works unchanged against a workspace's /m/<slug>/ base.
 *
 *   (function(w,d,t,u,n,a,m){w['MauticTrackingObject']=n;w[n]=w[n]||function(){(w[n].q=w[n].q||[]).push(arguments)},
 *   a=d.createElement(t),m=d.getElementsByTagName(t)[0];a.async=1;a.src=u;m.parentNode.insertBefore(a,m)
 *   })(window,document,'script','https://tidings.example/m/acme/mtc.js','mt');
 *   mt('send', 'pageview', {email: 'ada@example.com'}, {onload: function () {}});
 *
 * Each page view POSTs Mautic's parameters (page_title, page_language, preferred_locale, page_referrer,
 * page_url, counter, timezone_offset, timezone, resolution, platform, do_not_track, plus the extra keys)
 * form-encoded to <base>/mtc/event, and falls back to the image <base>/mtracking.gif?<same> when the
 * request fails. Requests carry no cookies. The answer's device_id is kept in localStorage as
 * mautic_device_id (and sent back) only when the server gives one; null removes it. Unlike Mautic,
 * no contact id (mtc_id) is ever stored: the server never hands one out.
 * Dependency-free ES2017; the base is read from this script's own URL.
 */
(function (w, d) {
  'use strict';
  var name = w.MauticTrackingObject || 'mt';
  var mt = w[name];
  if (!mt || mt.tidingsLoaded) return;
  mt.tidingsLoaded = true;

  var tag = d.currentScript || d.querySelector('script[src*="/mtc.js"]');
  if (!tag) return;
  var base = tag.src.replace(/\/mtc\.js(?:[?#].*)?$/, '');
  var nav = w.navigator;
  var doNotTrack = nav.doNotTrack === '1' || w.doNotTrack === '1';
  var mayStore = !doNotTrack && nav.globalPrivacyControl !== true;
  var DEVICE = 'mautic_device_id';
  var counter = 0;
  var delivered = Promise.resolve(); // one delivery at a time: the first answer names the device

  function os() {
    var v = nav.appVersion || '';
    var found = 'Unknown OS';
    [['Win', 'Windows'], ['Mac', 'MacOS'], ['X11', 'UNIX'], ['Linux', 'Linux']].forEach(function (pair) {
      if (v.indexOf(pair[0]) !== -1) found = pair[1];
    });
    return found;
  }

  function storage(action, value) {
    try {
      if (action === 'get') return w.localStorage.getItem(DEVICE);
      if (action === 'set') w.localStorage.setItem(DEVICE, value);
      else w.localStorage.removeItem(DEVICE);
    } catch (e) { /* storage blocked */ }
    return null;
  }

  function serialize(params) {
    return Object.keys(params).map(function (key) {
      return encodeURIComponent(key) + '=' + encodeURIComponent(params[key]);
    }).join('&');
  }

  function parameters(extra) {
    var language = nav.language || '';
    var params = {
      page_title: d.title,
      page_language: language,
      preferred_locale: language.replace('-', '_'),
      page_referrer: d.referrer ? d.referrer.split('/')[2] : '',
      page_url: w.location.href,
      counter: counter++,
      timezone_offset: new Date().getTimezoneOffset(),
      resolution: w.screen.width + 'x' + w.screen.height,
      platform: os(),
      do_not_track: doNotTrack,
    };
    try { params.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* no Intl */ }
    if (extra && typeof extra === 'object') {
      Object.keys(extra).forEach(function (key) { params[key] = extra[key]; });
    }
    return params;
  }

  function remember(answer) {
    if (!answer || typeof answer !== 'object' || !('device_id' in answer)) return;
    if (answer.device_id === null) storage('remove');
    else if (mayStore && /^[A-Za-z0-9._-]{1,64}$/.test(String(answer.device_id))) storage('set', String(answer.device_id));
  }

  function announce(event, params, detail) {
    detail.event = event;
    detail.params = params;
    d.dispatchEvent(new CustomEvent('mauticPageEventDelivered', {detail: detail}));
    var callbacks = event[3];
    if (callbacks && typeof callbacks.onload === 'function' && !detail.image) callbacks.onload(detail);
  }

  function image(event, params) {
    return new Promise(function (resolve) {
      var pixel = new Image();
      var callbacks = event[3] || {};
      pixel.onload = function (e) {
        if (typeof callbacks.onload === 'function') callbacks.onload(e);
        announce(event, params, {image: true});
        resolve();
      };
      pixel.onerror = function (e) {
        if (typeof callbacks.onerror === 'function') callbacks.onerror(e);
        resolve();
      };
      pixel.src = base + '/mtracking.gif?' + serialize(params);
    });
  }

  // Form-encoded POST is a "simple" request (no preflight); no credentials: the server sets no cookie.
  function deliver(event) {
    var params = parameters(event[2]);
    var device = storage('get');
    if (device) params[DEVICE] = device;
    return w.fetch(base + '/mtc/event', {
      method: 'POST', body: serialize(params), credentials: 'omit', mode: 'cors', keepalive: true,
      headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    }).then(function (response) {
      return response.json().catch(function () { return null; });
    }).then(function (answer) {
      remember(answer);
      announce(event, params, {response: answer});
    }, function () {
      return image(event, params);
    });
  }

  function receive(event) {
    if (!event || event[0] !== 'send' || event[1] !== 'pageview') return;
    delivered = delivered.then(function () { return deliver(event); }).catch(function () { /* next one */ });
  }

  var queue = mt.q = mt.q || [];
  for (var i = 0; i < queue.length; i++) receive(queue[i]);
  queue.push = function () {
    for (var j = 0; j < arguments.length; j++) {
      Array.prototype.push.call(queue, arguments[j]);
      receive(arguments[j]);
    }
    return queue.length;
  };
})(window, document);
