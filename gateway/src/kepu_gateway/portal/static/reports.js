// 报表 page: fill and submit the tenant's report, see the children's status, accept or return.
(function () {
  "use strict";
  var k = window.kepu, esc = k.esc, types = {}, current = null;
  var picker = document.getElementById("report-picker");
  var periods = JSON.parse(picker.dataset.periods || "{}");
  var params = new URLSearchParams(location.search);
  function defaultPeriod(kind) { return periods[kind] || periods.month || ""; }
  function sel() { return { type: document.getElementById("report-type").value, period: document.getElementById("report-period").value.trim() }; }
  function base() { var s = sel(); return "/api/v1/reports/" + encodeURIComponent(s.type) + "/" + encodeURIComponent(s.period); }
  function typeOf(code) { return types[code] || types[sel().type] || { fields: [] }; }
  function values() {
    var out = {};
    (typeOf(sel().type).fields || []).forEach(function (f) {
      var el = document.querySelector('#report-fields [data-key="' + f.key + '"]'); if (!el) return;
      var v = el.value.trim();
      if (f.kind === "number") out[f.key] = v === "" ? 0 : Number(v);
      else if (f.kind === "list") out[f.key] = v ? v.split("\n").filter(Boolean) : [];
      else out[f.key] = v;
    });
    return out;
  }
  function show(v) { return Array.isArray(v) ? v.join("；") : (v == null ? "" : String(v)); }
  function showReport(r) {
    current = r;
    document.getElementById("report-status").textContent = "（" + (r.status_label || r.status) + (r.prefilled ? "，已按活动和下级数据预填，请核对" : "") + "）";
    document.getElementById("report-deadline").textContent = r.deadline ? "截止日期：" + r.deadline + (r.submitted_at ? "；报送时间：" + r.submitted_at.slice(0, 16).replace("T", " ") + (r.on_time ? "（按时）" : "（逾期）") : "") : "";
    var ret = document.getElementById("report-returned");
    ret.hidden = !(r.status === "returned" && r.return_reason);
    ret.textContent = r.status === "returned" ? "上级退回了本期报告，退回理由：" + (r.return_reason || "") + "。请修改后重新提交。" : "";
    var box = document.getElementById("report-fields"), html = "", vals = r.values || {};
    var locked = r.status === "submitted" || r.status === "accepted";
    (typeOf(r.type_code).fields || []).forEach(function (f) {
      var v = vals[f.key];
      html += '<label>' + esc(f.label) + (f.unit ? "（" + esc(f.unit) + "）" : "") + (f.required ? " *" : "") + "<br>";
      if (f.kind === "number") html += '<input type="number" min="0" data-key="' + esc(f.key) + '" value="' + esc(v == null ? "" : v) + '"' + (locked ? " readonly" : "") + ">";
      else html += '<textarea rows="3" cols="60" data-key="' + esc(f.key) + '"' + (locked ? " readonly" : "") + ">" + esc(Array.isArray(v) ? v.join("\n") : (v || "")) + "</textarea>";
      html += "</label>";
    });
    box.innerHTML = html;
    var save = document.getElementById("report-save"), submit = document.getElementById("report-submit");
    save.disabled = locked;
    if (submit) submit.disabled = locked;
  }
  function children() {
    k.api("GET", base() + "/children").then(function (o) {
      var pct = function (x) { return Math.round((x || 0) * 1000) / 10 + "%"; };
      var levels = (o.levels || []).map(function (l) { return l.label + " " + l.submitted + "/" + l.expected; }).join("，");
      document.getElementById("children-summary").textContent = o.expected
        ? "直属下级应报 " + o.expected + " 家，已报 " + o.submitted + " 家（报送率 " + pct(o.completeness) + "），按时 " + o.on_time + " 家（按时报送率 " + pct(o.timeliness) + "）。" +
          (levels ? "全辖区分级：" + levels + "。" : "") +
          (o.sum_briefs ? "下级合计含 " + o.sum_briefs + " 份已报送简报（按 " + (o.sum_sources || []).length + " 份计入，上级简报已含其下级的不重复相加）。" : "")
        : "本单位没有需要报送的下级单位。";
      var t = document.getElementById("children-status"), rows = t.querySelectorAll("tr");
      for (var i = rows.length - 1; i > 0; i--) rows[i].remove();
      (o.children || []).forEach(function (c) {
        var tr = document.createElement("tr"), act = "", id = esc(c.tenant_id);
        tr.dataset.tenant = c.tenant_id; tr.dataset.name = c.name;
        if (c.status && c.status !== "none") act += '<button type="button" class="small gray" data-view="' + id + '">查看</button> ';
        if (c.status === "submitted") {
          act += '<button type="button" class="small" data-accept="' + id + '">接收</button> ' +
            '<input class="small" size="18" data-reason="' + id + '" placeholder="退回理由（退回时必填）"> ' +
            '<button type="button" class="small gray" data-return="' + id + '">退回</button>';
        }
        tr.innerHTML = "<td>" + esc(c.name) + "</td><td>" + esc(c.status_label || c.status) + (c.overdue ? ' <span class="no">逾期</span>' : "") +
          (c.status === "returned" && c.return_reason ? '<br><span class="small hint">退回理由：' + esc(c.return_reason) + "</span>" : "") +
          "</td><td>" + esc(c.deadline) + "</td><td>" + esc((c.submitted_at || "").slice(0, 16).replace("T", " ")) +
          (c.submitted_at ? (c.on_time ? "（按时）" : ' <span class="no">（逾期）</span>') : "") + "</td><td>" + act + "</td>";
        t.appendChild(tr);
      });
    }).catch(function (e) { document.getElementById("children-summary").textContent = e.message; });
  }
  function load(ev) {
    if (ev) ev.preventDefault();
    k.clearError();
    document.getElementById("brief-link").href = base() + "/brief.docx";
    document.getElementById("child-report").hidden = true;
    k.api("GET", base()).then(showReport).catch(k.showError);
    children();
  }
  function nameOf(id) { var tr = document.querySelector('#children-status tr[data-tenant="' + id + '"]'); return tr ? tr.dataset.name : "下级单位"; }
  document.getElementById("pick").addEventListener("submit", load);
  document.getElementById("report-type").addEventListener("change", function () {
    document.getElementById("report-period").value = defaultPeriod(typeOf(sel().type).period_kind); load();
  });
  document.getElementById("report-save").addEventListener("click", function () {
    k.clearError();
    k.api("PUT", base(), { values: values() }).then(function (r) { showReport(r); k.showOk("已保存草稿（" + sel().period + "）。"); }).catch(k.showError);
  });
  var submit = document.getElementById("report-submit");
  if (submit) submit.addEventListener("click", function () {
    if (!confirm("提交后由上级科协接收，接收前不能再修改（被退回后可修改）。确定提交吗？")) return;
    k.clearError();
    k.api("POST", base() + "/submit", { values: values() }).then(function (r) {
      showReport(r);
      k.showOk("已提交上级（" + sel().period + "）" + (r.on_time ? "，按时报送。" : "，已超过截止日期，记为逾期报送。"));
    }).catch(k.showError);
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target, d = b.dataset || {};
    if (d.view) {
      k.api("GET", base() + "?tenant_id=" + encodeURIComponent(d.view)).then(function (r) {
        var box = document.getElementById("child-report"), t = document.getElementById("child-report-values"), html = "<tr><th>栏目</th><th>填报内容</th></tr>";
        document.getElementById("child-report-title").textContent = (r.tenant_name || nameOf(d.view)) + " · " + r.period + " · " + (r.status_label || r.status);
        (typeOf(r.type_code).fields || []).forEach(function (f) {
          html += "<tr><td>" + esc(f.label) + "</td><td>" + esc(show((r.values || {})[f.key])) + (f.unit ? " " + esc(f.unit) : "") + "</td></tr>";
        });
        t.innerHTML = html; box.hidden = false; box.scrollIntoView();
      }).catch(k.showError);
    }
    if (d.accept) {
      k.clearError();
      var who = nameOf(d.accept);
      k.api("POST", base() + "/" + d.accept + "/accept").then(function () { k.showOk("已接收" + who + "的报告。"); children(); }).catch(k.showError);
    }
    if (d.return) {
      var input = document.querySelector('[data-reason="' + d.return + '"]'), reason = input ? input.value.trim() : "";
      if (!reason) { k.showError(new Error("请先在理由框中填写退回理由，再点“退回”。")); if (input) input.focus(); return; }
      var name = nameOf(d.return);
      k.api("POST", base() + "/" + d.return + "/return", { reason: reason }).then(function () { k.showOk("已将" + name + "的报告退回，理由：" + reason); children(); }).catch(k.showError);
    }
  });
  k.api("GET", "/api/v1/report-types").then(function (res) {
    var s = document.getElementById("report-type");
    (res.types || []).forEach(function (t) { types[t.code] = t; s.insertAdjacentHTML("beforeend", '<option value="' + esc(t.code) + '">' + esc(t.name) + "</option>"); });
    if (!s.value) { k.showError(new Error("上级还没有设置需要填报的报告。")); return; }
    if (params.get("type") && types[params.get("type")]) s.value = params.get("type");
    document.getElementById("report-period").value = params.get("period") || defaultPeriod(types[s.value].period_kind);
    load();
  }).catch(k.showError);
})();
