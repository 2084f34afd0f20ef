// Small helpers of the portal: calls to the REST API with the session cookie, errors in Chinese.
(function () {
  "use strict";
  var PLAIN = {
    400: "提交的内容格式不对，请检查后重试。",
    401: "登录已过期，请重新登录。",
    403: "您没有权限做这项操作。如需开通，请联系本单位管理员。",
    404: "没有找到要找的内容，可能已被删除，或不属于本单位管辖范围。",
    409: "当前状态下不能做这项操作，请刷新页面查看最新状态。",
    413: "上传的文件太大。",
    422: "填写的内容不符合要求，请检查后重试。",
    429: "操作太频繁，请稍等一分钟再试。"
  };
  function hasCjk(s) { return /[\u4e00-\u9fff]/.test(s || ""); }
  function plain(status, body) {
    var d = body && body.detail;
    if (status < 500 && hasCjk(d)) return d;
    return PLAIN[status] || "系统暂时出了点问题，请稍后再试；如果一直不行，请联系平台运维。";
  }
  function csrf() { var m = document.querySelector('meta[name="csrf"]'); return m ? m.content : ""; }
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: { "X-Kepu-CSRF": csrf() } };
    if (body instanceof FormData) { opts.body = body; }
    else if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    return fetch(path, opts).then(function (r) {
      var ct = r.headers.get("content-type") || "";
      var parsed = ct.indexOf("json") >= 0 ? r.json() : Promise.resolve(null);
      return parsed.then(function (data) {
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); }
        if (!r.ok) { var e = new Error(plain(r.status, data)); e.status = r.status; e.body = data; throw e; }
        return data;
      });
    });
  }
  function showOk(msg) {
    var err = document.getElementById("js-error"); if (err) err.hidden = true;
    var box = document.getElementById("js-ok");
    if (!box) { alert(msg); return; }
    box.textContent = msg; box.hidden = false; window.scrollTo(0, 0);
  }
  function showError(err) {
    var ok = document.getElementById("js-ok"); if (ok) ok.hidden = true;
    var box = document.getElementById("js-error");
    if (!box) { alert(err.message || err); return; }
    box.textContent = err.message || String(err); box.hidden = false; window.scrollTo(0, 0);
  }
  function clearError() {
    ["js-error", "js-ok"].forEach(function (id) { var box = document.getElementById(id); if (box) box.hidden = true; });
  }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  // The result of an action that reloads (or opens) a page, shown there by showOk.
  function done(msg, url) {
    try { sessionStorage.setItem("kepu-ok", msg); } catch (e) { /* private mode: no message */ }
    if (url) location.href = url; else location.reload();
  }
  function pending() {
    var msg = null;
    try { msg = sessionStorage.getItem("kepu-ok"); sessionStorage.removeItem("kepu-ok"); } catch (e) { msg = null; }
    if (msg) showOk(msg);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", pending); else pending();
  window.kepu = { api: api, showOk: showOk, showError: showError, clearError: clearError, esc: esc, csrf: csrf, done: done };
})();

// Forms that ask before they submit (data-confirm: text, never script; no inline handlers
// under the Content-Security-Policy, and a unit's name cannot break out of a JS string).
document.addEventListener("submit", function (ev) {
  var f = ev.target;
  if (f && f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm)) ev.preventDefault();
}, true);
