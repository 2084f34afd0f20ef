// 项目 pages: file the 入库表, submit, give the level's opinion, open a call, record expert
// scores, select the best, report progress, complete, evaluate and flag for the 成果奖.
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

  // -- the 入库表 (附表3) ---------------------------------------------------------------------
  var form = $("project-form");
  function formData() {
    var f = form.elements, out = {};
    ["call_id", "name", "category", "applicant_unit", "completing_unit", "contact_person",
      "contact_phone", "start_month", "end_month", "content", "expected_performance"].forEach(function (n) {
      out[n] = (f[n].value || "").trim();
    });
    var budget = (f.budget.value || "").trim();
    out.budget = budget === "" ? null : Number(budget);
    return out;
  }
  function checkForm(data, filing) {
    var f = form.elements;
    var labels = { name: "项目名称", applicant_unit: "申报单位", completing_unit: "完成单位", contact_person: "联系人",
      contact_phone: "联系电话", start_month: "实施开始时间", end_month: "实施结束时间", content: "项目基本内容",
      expected_performance: "项目预期绩效" };
    for (var n in labels) { if (!need(data[n], "请填写" + labels[n] + "。", f[n])) return false; }
    if (!need(data.end_month >= data.start_month, "项目实施时间的结束年月不能早于开始年月。", f.end_month)) return false;
    if (filing && !need(data.call_id, "请先选择申报批次再提交申报（也可以先保存为草稿）。", f.call_id)) return false;
    return true;
  }
  function save(filing) {
    k.clearError();
    var data = formData();
    if (!checkForm(data, filing)) return;
    k.api("POST", "/api/v1/projects", data).then(function (p) {
      if (!filing) { k.done("已保存为草稿“" + p.name + "”。请核对入库表内容，无误后点“提交申报”。", "/projects/" + p.id); return; }
      return k.api("POST", "/api/v1/projects/" + p.id + "/submit").then(function (q) {
        k.done("已提交申报“" + q.name + "”（" + q.call_title + "），等待上级科协审核。", "/projects/" + q.id);
      }).catch(function (e) {
        k.done("项目已保存为草稿，但提交申报没有成功：" + e.message, "/projects/" + p.id);
      });
    }).catch(fail);
  }
  if (form) {
    $("project-save").addEventListener("click", function () { save(false); });
    $("project-file").addEventListener("click", function () { save(true); });
  }

  // -- open a call (申报批次) -----------------------------------------------------------------
  var callForm = $("call-form");
  if (callForm) {
    $("add-criterion").addEventListener("click", function () {
      $("criteria").insertAdjacentHTML("beforeend", '<tr><td><input class="c-name" maxlength="50"></td>' +
        '<td><input class="c-weight" type="number" min="1" size="4"></td><td><button type="button" class="small gray" data-drop-row>删除</button></td></tr>');
    });
    $("open-call").addEventListener("click", function () {
      k.clearError();
      var f = callForm.elements, criteria = [], bad = null;
      Array.prototype.forEach.call(document.querySelectorAll("#criteria tr"), function (tr) {
        var name = tr.querySelector(".c-name"), weight = tr.querySelector(".c-weight");
        if (!name) return;
        if (!name.value.trim() && !weight.value) return;
        if (!name.value.trim() || !(Number(weight.value) > 0)) bad = bad || name;
        criteria.push({ name: name.value.trim(), weight: Number(weight.value) });
      });
      if (!need(f.title.value.trim(), "请填写批次名称。", f.title)) return;
      if (!need(f.programme.value.trim(), "请选择或填写专项，如“现代农业科普园”。", f.programme)) return;
      if (!need(f.deadline.value, "请选择截止日期。", f.deadline)) return;
      if (!need(!bad, "每项评审指标都要填写名称和大于0的权重。", bad)) return;
      if (!need(criteria.length, "请至少设置一项评审指标。")) return;
      var body = { title: f.title.value.trim(), programme: f.programme.value.trim(), year: Number(f.year.value) || 0,
        description: f.description.value.trim(), deadline: f.deadline.value, quota: Number(f.quota.value) || 0,
        min_reviewers: Number(f.min_reviewers.value) || 1, criteria: criteria };
      k.api("POST", "/api/v1/calls", body).then(function (c) {
        k.done("已发布申报批次“" + c.title + "”，下级科协可在" + c.deadline.slice(0, 10) + "前申报。", "/calls/" + c.id);
      }).catch(fail);
    });
  }

  // -- the scores of one expert ----------------------------------------------------------------
  var scoreSave = $("score-save");
  if (scoreSave) scoreSave.addEventListener("click", function () {
    k.clearError();
    var reviewer = $("score-reviewer"), scores = {}, missing = null;
    Array.prototype.forEach.call(document.querySelectorAll(".score-input"), function (el) {
      if (el.value === "") missing = missing || el; else scores[el.dataset.criterion] = Number(el.value);
    });
    if (!need(reviewer.value.trim(), "请填写评审专家姓名。", reviewer)) return;
    if (!need(!missing, "请填写“" + (missing && missing.dataset.criterion) + "”的得分。", missing)) return;
    var call = $("call-summary").dataset.call, sel = $("score-project");
    var correction = $("score-correction"), reason = $("score-reason");
    var fix = !!(correction && correction.checked);
    if (fix && !need(reason.value.trim(), "更正评分时请写明更正理由。", reason)) return;
    var body = { project_id: sel.value, reviewer: reviewer.value.trim(), scores: scores,
      correction: fix, reason: fix ? reason.value.trim() : "" };
    k.api("POST", "/api/v1/calls/" + call + "/scores", body).then(function (r) {
      k.done("已保存专家“" + r.reviewer + "”对“" + sel.options[sel.selectedIndex].text + "”的评分，加权总分 " + r.total + " 分。");
    }).catch(fail);
  });

  var selectBtn = $("select-btn");
  if (selectBtn) selectBtn.addEventListener("click", function () {
    var n = Number($("select-n").value) || 0, reject = $("select-reject").checked;
    if (!confirm("将按排名入选前 " + n + " 个项目，入选即入库立项" + (reject ? "，其余参评项目标记为未入选" : "") + "。确定吗？")) return;
    k.clearError();
    var call = $("call-summary").dataset.call;
    k.api("POST", "/api/v1/calls/" + call + "/select", { top_n: n, reject_others: reject }).then(function (r) {
      var names = (r.approved || []).map(function (p) { return "“" + p.name + "”（入库编号 " + p.library_no + "）"; });
      var msg = "已择优立项 " + names.length + " 个项目：" + names.join("、") + "。";
      if ((r.rejected || []).length) msg += "另有 " + r.rejected.length + " 个项目未入选。";
      k.done(msg);
    }).catch(fail);
  });

  // -- buttons that act on one project -------------------------------------------------------
  function opinionFor(id) {
    var inline = document.querySelector('[data-opinion="' + id + '"]');
    var el = inline || $("review-opinion");
    return { el: el, text: el ? el.value.trim() : "" };
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target, d = b.dataset || {};
    if (d.dropRow !== undefined) { b.closest("tr").remove(); return; }
    if (d.submit) {
      if (!confirm("提交后由上级科协逐级审核，审核期间不能修改。确定提交申报吗？")) return;
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.submit + "/submit").then(function (p) {
        k.done("已提交申报“" + p.name + "”（" + p.call_title + "），等待上级科协审核。");
      }).catch(fail);
    }
    if (d.review) {
      var op = opinionFor(d.project);
      if (d.review === "fail" && !need(op.text, "不通过时请填写理由，理由会告知申报单位。", op.el)) return;
      if (d.review === "return" && !need(op.text && op.text !== "同意申报。", "退回修改时请写明需要修改的内容，会告知申报单位。", op.el)) return;
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.project + "/review", { decision: d.review, opinion: op.text }).then(function (p) {
        var msg = p.status === "expert_review" ? "已通过“" + p.name + "”，项目进入专家评审。"
          : p.status === "submitted" ? "已通过“" + p.name + "”，报上一级科协审核。"
          : p.status === "returned" ? "已退回“" + p.name + "”修改，申报单位修改后可重新申报。"
          : "已审核为不通过，理由已告知申报单位（“" + p.name + "”）。";
        k.done(msg);
      }).catch(fail);
    }
    if (b.id === "progress-btn") {
      var content = $("progress-content");
      if (!need(content.value.trim(), "请填写实施进展情况。", content)) return;
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.project + "/progress",
        { content: content.value.trim(), percent: Number($("progress-percent").value) || 0 }).then(function (p) {
        k.done("已报送“" + p.name + "”的实施进展，项目状态：" + p.status_label + "。");
      }).catch(fail);
    }
    if (b.id === "complete-btn") {
      if (!confirm("申请结项后不能再报送进展，由批次发布单位考核。确定吗？")) return;
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.project + "/complete", { summary: $("complete-summary").value.trim() }).then(function (p) {
        k.done("“" + p.name + "”已结项，等待批次发布单位考核。");
      }).catch(fail);
    }
    if (b.id === "evaluate-btn") {
      var score = $("evaluate-score");
      if (!need(score.value !== "", "请填写考核得分（0–100分）。", score)) return;
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.project + "/evaluate",
        { score: Number(score.value), comment: $("evaluate-comment").value.trim() }).then(function (p) {
        k.done("已考核“" + p.name + "”：" + p.evaluation_score + " 分，等次为" + p.evaluation_grade + "。");
      }).catch(fail);
    }
    if (b.id === "award-btn") {
      var on = d.award === "1";
      k.clearError();
      k.api("POST", "/api/v1/projects/" + d.project + "/award", { recommended: on }).then(function (p) {
        k.done(on ? "已推荐“" + p.name + "”参评科普成果奖。" : "已取消“" + p.name + "”的科普成果奖推荐。");
      }).catch(fail);
    }
    if (b.id === "reveal-btn") {
      k.clearError();
      k.api("GET", "/api/v1/projects/" + d.project + "?reveal=true").then(function (p) {
        $("phone").textContent = p.contact_phone; b.remove();
        k.showOk("已显示完整联系电话，本次查看已记入操作日志。请勿外传。");
      }).catch(fail);
    }
  });
})();
