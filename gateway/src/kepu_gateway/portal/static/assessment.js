// 考核 pages: the scheme editor (with the province-default template), manual scores per child,
// compute, close and publish.
(function () {
  "use strict";
  var k = window.kepu;
  function $(id) { return document.getElementById(id); }
  function fail(e) { k.showError(e); }
  function need(cond, msg, el) {
    if (cond) return true;
    k.showError(new Error(msg)); if (el) el.focus();
    return false;
  }
  function fmt(x) { return Math.round(x * 100) / 100; }

  // -- the scheme editor -----------------------------------------------------------------------
  var editor = $("scheme-editor");
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#indicators tr.indicator")); }
  function sync(tr) {
    var kind = tr.querySelector(".i-kind").value, metric = tr.querySelector(".i-metric"), rule = tr.querySelector(".i-rule");
    metric.disabled = kind !== "automatic";
    if (kind !== "automatic") metric.value = "";
    if (kind === "manual") rule.value = "manual";
    else if (rule.value === "manual") rule.value = "linear";
    Array.prototype.forEach.call(rule.options, function (o) { o.disabled = (kind === "manual") !== (o.value === "manual"); });
    tr.querySelector(".i-target").disabled = kind === "manual";
  }
  function sum() {
    var total = 0;
    rows().forEach(function (tr) { total += Number(tr.querySelector(".i-weight").value) || 0; });
    var el = $("weight-sum");
    el.textContent = "分值合计：" + fmt(total) + " 分" + (Math.abs(total - 100) < 1e-6 ? "" : "（应为 100 分）");
    el.className = Math.abs(total - 100) < 1e-6 ? "ok" : "no";
  }
  function addRow(ind) {
    var tpl = $("indicator-row").content.firstElementChild.cloneNode(true);
    tpl.classList.add("indicator");
    ind = ind || { code: String(rows().length + 1), kind: "manual" };
    tpl.querySelector(".i-code").value = ind.code || "";
    tpl.querySelector(".i-name").value = ind.name || "";
    tpl.querySelector(".i-weight").value = ind.weight == null ? "" : ind.weight;
    tpl.querySelector(".i-kind").value = ind.kind || "manual";
    tpl.querySelector(".i-metric").value = ind.metric || "";
    tpl.querySelector(".i-rule").value = ind.rule || (ind.kind === "manual" ? "manual" : "linear");
    tpl.querySelector(".i-target").value = ind.target == null ? "" : ind.target;
    tpl.querySelector(".i-unit").value = ind.unit || "";
    $("indicators").appendChild(tpl);
    sync(tpl); sum();
    return tpl;
  }
  function indicators() {
    var out = [], problem = null;
    rows().forEach(function (tr) {
      var v = function (c) { return tr.querySelector(c).value.trim(); };
      var ind = { code: v(".i-code"), name: v(".i-name"), weight: Number(v(".i-weight")) || 0, kind: v(".i-kind"),
        metric: v(".i-metric"), rule: v(".i-rule"), target: Number(v(".i-target")) || 0, unit: v(".i-unit") };
      if (!problem && !ind.code) problem = ["请填写每项指标的编号。", tr.querySelector(".i-code")];
      if (!problem && !ind.name) problem = ["请填写指标“" + ind.code + "”的考核内容。", tr.querySelector(".i-name")];
      if (!problem && ind.kind === "automatic" && !ind.metric) problem = ["指标“" + ind.code + "”为自动采集，请选择数据项。", tr.querySelector(".i-metric")];
      if (!problem && ind.kind !== "manual" && !(ind.target > 0)) problem = ["请填写指标“" + ind.code + "”的目标值。", tr.querySelector(".i-target")];
      out.push(ind);
    });
    return { list: out, problem: problem };
  }
  if (editor) {
    var template = JSON.parse(editor.dataset.template || "[]");
    template.forEach(addRow);
    $("add-indicator").addEventListener("click", function () { addRow().querySelector(".i-name").focus(); });
    $("load-template").addEventListener("click", function () {
      if (rows().length && !confirm("载入模板会替换当前填写的指标，确定吗？")) return;
      rows().forEach(function (tr) { tr.remove(); });
      template.forEach(addRow);
      k.showOk("已载入省级默认模板（5 项自动采集指标，合计 100 分），可按需修改后保存。");
    });
    $("indicators").addEventListener("input", sum);
    $("indicators").addEventListener("change", function (ev) {
      var tr = ev.target.closest("tr.indicator"); if (!tr) return;
      if (ev.target.classList.contains("i-kind")) sync(tr);
      if (ev.target.classList.contains("i-metric")) {
        var opt = ev.target.options[ev.target.selectedIndex], unit = tr.querySelector(".i-unit");
        if (opt && opt.dataset.unit && !unit.value) unit.value = opt.dataset.unit;
      }
      sum();
    });
    $("scheme-create").addEventListener("click", function () {
      k.clearError();
      var f = $("scheme-form").elements, got = indicators(), total = 0;
      if (!need(f.name.value.trim(), "请填写方案名称。", f.name)) return;
      if (!need(got.list.length, "考核方案至少要有一项考核指标。")) return;
      if (got.problem) { need(false, got.problem[0], got.problem[1]); return; }
      got.list.forEach(function (i) { total += i.weight; });
      if (!need(Math.abs(total - 100) < 1e-6, "各项考核指标的分值之和应为100分，当前为" + fmt(total) + "分。")) return;
      var body = { year: Number(f.year.value) || 0, name: f.name.value.trim(), honours_top_n: Number(f.honours_top_n.value) || 0,
        honours_min_score: Number(f.honours_min_score.value) || 0, indicators: got.list };
      k.api("POST", "/api/v1/assessment/schemes", body).then(function (sc) {
        k.done("已保存考核方案“" + sc.name + "”（" + sc.year + "年度，" + sc.indicators.length + "项指标）。", "/assessment/" + sc.id);
      }).catch(fail);
    });
  }
  document.addEventListener("click", function (ev) {
    if (ev.target.dataset && ev.target.dataset.dropIndicator !== undefined) { ev.target.closest("tr").remove(); sum(); }
  });

  // -- one scheme: manual scores, compute, close, publish ------------------------------------
  var summary = $("scheme-summary");
  if (!summary) return;
  var base = "/api/v1/assessment/schemes/" + summary.dataset.scheme;
  var child = $("manual-child");
  function entryRows() { return Array.prototype.slice.call(document.querySelectorAll("#manual-entries tr[data-code]")); }
  if (child) {
    child.addEventListener("change", function () {
      entryRows().forEach(function (tr) { tr.querySelector(".m-value").value = ""; tr.querySelector(".m-evidence").value = ""; });
      if (!child.value) return;
      k.api("GET", base + "/scores/" + child.value).then(function (r) {
        (r.entries || []).forEach(function (e) {
          var tr = document.querySelector('#manual-entries tr[data-code="' + e.indicator_code + '"]'); if (!tr) return;
          var v = tr.dataset.kind === "manual" ? e.score : e.value;
          tr.querySelector(".m-value").value = v == null ? "" : v;
          tr.querySelector(".m-evidence").value = e.evidence || "";
        });
      }).catch(fail);
    });
    $("manual-save").addEventListener("click", function () {
      k.clearError();
      if (!need(child.value, "请先选择被考核单位。", child)) return;
      var entries = [], problem = null;
      entryRows().forEach(function (tr) {
        var input = tr.querySelector(".m-value"), raw = input.value.trim();
        if (raw === "") return;
        var x = Number(raw), weight = Number(tr.dataset.weight);
        if (!problem && (isNaN(x) || x < 0)) problem = ["指标“" + tr.dataset.code + "”请填写不小于0的数字。", input];
        if (!problem && tr.dataset.kind === "manual" && x > weight) problem = ["指标“" + tr.dataset.code + "”的得分须在0到" + weight + "分之间。", input];
        var e = { indicator_code: tr.dataset.code, evidence: tr.querySelector(".m-evidence").value.trim() };
        if (tr.dataset.kind === "manual") e.score = x; else e.value = x;
        entries.push(e);
      });
      if (problem) { need(false, problem[0], problem[1]); return; }
      if (!need(entries.length, "请至少填写一项得分或数值。")) return;
      var name = child.options[child.selectedIndex].text;
      k.api("PUT", base + "/scores/" + child.value, { entries: entries }).then(function () {
        k.showOk("已保存" + name + "的 " + entries.length + " 项评分。点“计算得分与排名”可更新结果。");
      }).catch(fail);
    });
  }
  function action(id, path, confirmText, okText) {
    var b = $(id); if (!b) return;
    b.addEventListener("click", function () {
      if (confirmText && !confirm(confirmText)) return;
      k.clearError();
      k.api("POST", base + path).then(function (r) { k.done(okText(r)); }).catch(fail);
    });
  }
  function top(r) {
    var first = (r.results || []).filter(function (x) { return x.rank === 1; }).map(function (x) { return x.name; });
    return first.length ? "第一名：" + first.join("、") + "。" : "";
  }
  var tieForm = $("tie-form");
  if (tieForm) {
    tieForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      k.clearError();
      var ids = Array.prototype.map.call(tieForm.querySelectorAll("input[name=tie]:checked"), function (x) { return x.value; });
      k.api("PUT", base + "/honours/tie", { tenant_ids: ids }).then(function (r) {
        var h = (r.results || []).filter(function (x) { return x.honoured; }).map(function (x) { return x.name; });
        k.done("已确定并列单位的取舍。" + (h.length ? "先进典型：" + h.join("、") + "。" : "暂无先进典型。"));
      }).catch(fail);
    });
  }
  action("compute-btn", "/compute", null, function (r) {
    return "已计算 " + (r.results || []).length + " 家单位的得分与排名。" + top(r);
  });
  action("close-btn", "/close", "结束考核后结果冻结，不能再修改评分或重新计算。确定结束吗？", function (r) {
    return "考核已结束，结果已冻结（" + (r.results || []).length + " 家单位）。确认无误后可发布。";
  });
  action("publish-btn", "/publish", "发布后考核结果和先进典型名单对所有下级单位可见，不能撤回。确定发布吗？", function (r) {
    var h = (r.honours || []).map(function (x) { return x.name; });
    return "考核结果已发布，下级单位可查看排名。" + (h.length ? "先进典型：" + h.join("、") + "。" : "");
  });
})();
