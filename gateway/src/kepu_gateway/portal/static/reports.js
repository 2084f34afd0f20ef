// 报表 page: fill and submit the tenant's report, see the children's status.
(function () {
  "use strict";
  var k = window.kepu, esc = k.esc, types = {}, current = null;
  function defaultPeriod(kind) {
    var d = new Date(), y = d.getFullYear(), m = d.getMonth() + 1;
    if (kind === "year") return String(y);
    if (kind === "quarter") return y + "Q" + Math.ceil(m / 3);
    return y + "-" + (m < 10 ? "0" : "") + m;
  }
  function sel() { return { type: document.getElementById("report-type").value, period: document.getElementById("report-period").value.trim() }; }
  function base() { var s = sel(); return "/api/v1/reports/" + encodeURIComponent(s.type) + "/" + encodeURIComponent(s.period); }
  function values() {
    var out = {};
    (types[sel().type].fields || []).forEach(function (f) {
      var el = document.querySelector('[data-key="' + f.key + '"]'); if (!el) return;
      var v = el.value.trim();
      if (f.kind === "number") out[f.key] = v === "" ? 0 : Number(v);
      else if (f.kind === "list") out[f.key] = v ? v.split("\n").filter(Boolean) : [];
      else out[f.key] = v;
    });
    return out;
  }
  function showReport(r) {
    current = r;
    document.getElementById("report-status").textContent = "（" + (r.status_label || r.status) + (r.prefilled ? "，已按活动和下级数据预填" : "") + "）";
    document.getElementById("report-deadline").textContent = (r.deadline ? "截止日期：" + r.deadline + "。" : "") + (r.return_reason ? "退回理由：" + r.return_reason : "");
    var box = document.getElementById("report-fields"), html = "", vals = r.values || {};
    (types[r.type_code || sel().type].fields || []).forEach(function (f) {
      var v = vals[f.key];
      html += '<label>' + esc(f.label) + (f.unit ? "（" + esc(f.unit) + "）" : "") + (f.required ? " *" : "") + "<br>";
      if (f.kind === "number") html += '<input type="number" min="0" data-key="' + esc(f.key) + '" value="' + esc(v == null ? "" : v) + '">';
      else html += '<textarea rows="3" cols="60" data-key="' + esc(f.key) + '">' + esc(Array.isArray(v) ? v.join("\n") : (v || "")) + "</textarea>";
      html += "</label>";
    });
    box.innerHTML = html;
  }
  function load(ev) {
    if (ev) ev.preventDefault();
    k.clearError();
    var s = sel();
    document.getElementById("brief-link").href = base() + "/brief.docx";
    k.api("GET", base()).then(showReport).catch(k.showError);
    k.api("GET", base() + "/children").then(function (o) {
      var pct = function (x) { return Math.round((x || 0) * 1000) / 10 + "%"; };
      document.getElementById("children-summary").textContent = "应报 " + o.expected + " 家，已报 " + o.submitted + " 家（报送率 " + pct(o.completeness) + "），按时 " + o.on_time + " 家（及时率 " + pct(o.timeliness) + "）。";
      var t = document.getElementById("children-status"), rows = t.querySelectorAll("tr");
      for (var i = rows.length - 1; i > 0; i--) rows[i].remove();
      (o.children || []).forEach(function (c) {
        var tr = document.createElement("tr"), act = "";
        if (c.status === "submitted") act = '<button class="small" data-accept="' + esc(c.tenant_id) + '">接收</button> <button class="small gray" data-return="' + esc(c.tenant_id) + '">退回</button>';
        tr.innerHTML = "<td>" + esc(c.name) + "</td><td>" + esc(c.status_label || c.status) + (c.overdue ? ' <span class="no">逾期</span>' : "") + "</td><td>" + esc(c.deadline) + "</td><td>" + esc((c.submitted_at || "").slice(0, 16).replace("T", " ")) + "</td><td>" + act + "</td>";
        t.appendChild(tr);
      });
    }).catch(function (e) { document.getElementById("children-summary").textContent = e.message; });
    return s;
  }
  document.getElementById("pick").addEventListener("submit", load);
  document.getElementById("report-type").addEventListener("change", function () {
    document.getElementById("report-period").value = defaultPeriod(types[sel().type].period_kind); load();
  });
  document.getElementById("report-save").addEventListener("click", function () {
    k.api("PUT", base(), { values: values() }).then(function (r) { showReport(r); alert("已保存草稿。"); }).catch(k.showError);
  });
  document.getElementById("report-submit").addEventListener("click", function () {
    if (!confirm("提交后上级即可查看，确定提交吗？")) return;
    k.api("POST", base() + "/submit", { values: values() }).then(function (r) { showReport(r); }).catch(k.showError);
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target;
    if (b.dataset && b.dataset.accept) k.api("POST", base() + "/" + b.dataset.accept + "/accept").then(load).catch(k.showError);
    if (b.dataset && b.dataset.return) {
      var reason = prompt("退回理由（必填）：", ""); if (!reason) return;
      k.api("POST", base() + "/" + b.dataset.return + "/return", { reason: reason }).then(load).catch(k.showError);
    }
  });
  k.api("GET", "/api/v1/report-types").then(function (res) {
    var s = document.getElementById("report-type");
    (res.types || []).forEach(function (t) { types[t.code] = t; s.insertAdjacentHTML("beforeend", '<option value="' + esc(t.code) + '">' + esc(t.name) + "</option>"); });
    if (!s.value) { k.showError(new Error("上级还没有设置需要填报的报告。")); return; }
    document.getElementById("report-period").value = defaultPeriod(types[s.value].period_kind);
    load();
  }).catch(k.showError);
})();
