// 人才库 page: search (masked list), review queue (single and bulk), the 推荐表 form, import.
(function () {
  "use strict";
  var k = window.kepu, esc = k.esc;
  var card = document.getElementById("queue-card"), kind = card ? card.dataset.kind : "";
  function header(table) { var rows = table.querySelectorAll("tr"); for (var i = rows.length - 1; i > 0; i--) rows[i].remove(); }
  function link(x) { return '<a href="/talents/' + esc(x.id) + '">' + esc(x.fields.name) + "</a>"; }
  function search(ev) {
    if (ev) { ev.preventDefault(); k.clearError(); }
    var f = new FormData(document.getElementById("search")), q = new URLSearchParams();
    f.forEach(function (v, key) { if (v) q.append(key, v); });
    k.api("GET", "/api/v1/talents?" + q.toString()).then(function (res) {
      var t = document.getElementById("talent-list"); header(t);
      (res.talents || []).forEach(function (x) {
        var tr = document.createElement("tr"), act = '<a class="small" href="/talents/' + esc(x.id) + '">详情</a>';
        if (x.status === "draft" && (kind === "county" || kind === "society")) act += ' <button class="small" data-recommend="' + esc(x.id) + '" data-name="' + esc(x.fields.name) + '">推荐</button>';
        tr.dataset.id = x.id;
        tr.innerHTML = "<td>" + link(x) + "</td><td>" + esc(x.fields.gender) + "</td><td>" + esc(x.tenant_name) +
          "</td><td>" + esc(x.fields.specialty) + "</td><td>" + esc(x.fields.phone) + "</td><td>" + esc(x.status_label || x.status) +
          (x.certificate_no ? '<br><span class="small">' + esc(x.certificate_no) + "</span>" : "") + "</td><td>" + act + "</td>";
        t.appendChild(tr);
      });
      document.getElementById("talent-total").textContent = "共 " + (res.total || 0) + " 人";
    }).catch(k.showError);
  }
  function queueStatus() { return kind === "province" ? "city_reviewed" : kind === "city" ? "recommended" : "draft"; }
  function queue() {
    k.api("GET", "/api/v1/talents?page_size=100&status=" + queueStatus()).then(function (res) {
      var t = document.getElementById("review-queue"); header(t);
      var items = res.talents || [];
      if (!items.length) { var tr0 = document.createElement("tr"); tr0.innerHTML = '<td colspan="6" class="hint">' + (kind === "county" || kind === "society" || kind === "township" ? "暂无待推荐的草稿。" : "暂无待审核的人才。") + "</td>"; t.appendChild(tr0); }
      items.forEach(function (x) {
        var tr = document.createElement("tr"), id = esc(x.id), act, opinion;
        tr.dataset.id = x.id;
        if (kind === "province" || kind === "city") {
          opinion = '<input data-opinion="' + id + '" size="24" placeholder="' + (kind === "city" ? "意见（必填）" : "审核意见（不通过时必填）") + '"' + (kind === "city" ? ' value="同意推荐，报省科协审核。"' : "") + ">";
          act = '<button class="small" data-review="approve" data-id="' + id + '" data-name="' + esc(x.fields.name) + '">' + (kind === "city" ? "同意" : "通过") + '</button> <button class="small gray" data-review="reject" data-id="' + id + '" data-name="' + esc(x.fields.name) + '">不通过</button>';
        } else if (kind === "county" || kind === "society") {
          opinion = '<input data-opinion="' + id + '" size="24" value="同意推荐。">';
          act = '<button class="small" data-recommend="' + id + '" data-name="' + esc(x.fields.name) + '" data-inline="1">推荐</button>';
        } else { opinion = ""; act = '<span class="hint small">由县（市、区）科协推荐</span>'; }
        tr.innerHTML = "<td>" + (kind === "province" ? '<input type="checkbox" data-pick="' + id + '">' : "") + "</td><td>" + link(x) + "</td><td>" + esc(x.tenant_name) + "</td><td>" + esc(x.status_label || x.status) +
          "</td><td>" + opinion + "</td><td>" + act + "</td>";
        t.appendChild(tr);
      });
    }).catch(k.showError);
  }
  function refresh() { search(); queue(); }
  function opinionOf(id) { var input = document.querySelector('#review-queue [data-opinion="' + id + '"]'); return input ? input.value.trim() : ""; }
  document.addEventListener("click", function (ev) {
    var b = ev.target, d = b.dataset || {};
    if (d.recommend) {
      var op = d.inline ? opinionOf(d.recommend) : prompt("推荐意见：", "同意推荐。");
      if (op === null) return;
      if (!op) { k.showError(new Error("请填写推荐意见后再推荐。")); return; }
      k.clearError();
      k.api("POST", "/api/v1/talents/" + d.recommend + "/recommend", { opinion: op })
        .then(function () { k.showOk("已推荐“" + d.name + "”，等待上级科协审核。"); refresh(); }).catch(k.showError);
    }
    if (d.review) {
      var opinion = opinionOf(d.id);
      if (d.review === "reject" && !opinion) { k.showError(new Error("不通过时请在意见框中填写理由。")); return; }
      k.clearError();
      k.api("POST", "/api/v1/talents/" + d.id + "/review", { decision: d.review, opinion: opinion }).then(function (t) {
        var msg = t.status === "certified" ? "“" + d.name + "”已认定建档，证书编号 " + t.certificate_no + "。"
          : t.status === "city_reviewed" ? "已出具市级意见，“" + d.name + "”已报省科协资格审核。"
          : "已审核为不通过（“" + d.name + "”）。";
        k.showOk(msg); refresh();
      }).catch(k.showError);
    }
  });
  function bulk(decision) {
    var ids = Array.prototype.map.call(document.querySelectorAll("#review-queue [data-pick]:checked"), function (c) { return c.dataset.pick; });
    if (!ids.length) { k.showError(new Error("请先勾选要审核的人才。")); return; }
    var opinion = document.getElementById("bulk-opinion").value.trim();
    if (decision === "reject" && !opinion) { k.showError(new Error("批量不通过时请填写理由。")); return; }
    if (!confirm("确定对勾选的 " + ids.length + " 人" + (decision === "approve" ? "批量通过并认定建档" : "批量审核为不通过") + "吗？")) return;
    k.clearError();
    k.api("POST", "/api/v1/talents/bulk-review", { ids: ids, decision: decision, opinion: opinion }).then(function (r) {
      var failed = (r.results || []).filter(function (x) { return !x.ok; });
      var msg = "批量审核完成：成功 " + (r.succeeded || 0) + " 人，失败 " + (r.failed || 0) + " 人。";
      if (failed.length) msg += "失败原因：" + failed.slice(0, 5).map(function (x) { return x.error; }).join("；");
      (failed.length ? k.showError : k.showOk)(failed.length ? new Error(msg) : msg);
      document.getElementById("bulk-result").textContent = msg;
      refresh();
    }).catch(k.showError);
  }
  var all = document.getElementById("bulk-all");
  if (all) {
    all.addEventListener("change", function () { document.querySelectorAll("#review-queue [data-pick]").forEach(function (c) { c.checked = all.checked; }); });
    document.getElementById("bulk-approve").addEventListener("click", function () { bulk("approve"); });
    document.getElementById("bulk-reject").addEventListener("click", function () { bulk("reject"); });
  }
  document.getElementById("search").addEventListener("submit", search);
  var create = document.getElementById("create"), importForm = document.getElementById("import");
  if (create) create.addEventListener("submit", function (ev) {
    ev.preventDefault(); k.clearError();
    var errs = document.getElementById("create-errors"); errs.innerHTML = "";
    var f = new FormData(ev.target), body = { categories: f.getAll("categories") };
    if (!body.categories.length) { k.showError(new Error("请至少勾选一个科普人才服务类别。")); return; }
    ["name", "gender", "birth_month", "ethnicity", "political_status", "education", "industry", "specialty", "employer",
      "position", "phone", "email", "im_account", "id_number", "biography", "experience", "plan"].forEach(function (n) { body[n] = (f.get(n) || "").trim(); });
    k.api("POST", "/api/v1/talents", body).then(function (t) { location.href = "/talents/" + t.id + "?msg=created"; }).catch(function (e) {
      k.showError(new Error("保存没有成功：" + e.message));
      ((e.body && e.body.errors) || []).forEach(function (x) {
        var li = document.createElement("li"); li.textContent = (x.field || "") + "：" + (x.message || ""); errs.appendChild(li);
      });
    });
  });
  if (importForm) importForm.addEventListener("submit", function (ev) {
    ev.preventDefault(); k.clearError();
    var f = new FormData(ev.target), data = new FormData();
    data.append("file", f.get("file")); data.append("wait", "false");
    data.append("mode", f.get("valid_only") ? "valid_only" : "all_or_nothing");
    var box = document.getElementById("import-status"), bar = document.getElementById("import-progress"), msg = document.getElementById("import-message");
    box.hidden = false; bar.value = 0; msg.textContent = "正在上传…";
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/v1/talents/import");
    xhr.setRequestHeader("X-Kepu-CSRF", k.csrf());
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(e.loaded / e.total * 30); };
    xhr.onload = function () {
      var body = null; try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (xhr.status >= 400) { box.hidden = true; k.showError(new Error(body && /[\u4e00-\u9fff]/.test(body.detail || "") ? body.detail : "导入没有成功，请稍后再试。")); return; }
      poll(body);
    };
    xhr.onerror = function () { k.showError(new Error("网络连接中断，请检查网络后重试。")); };
    xhr.send(data);
  });
  var LABEL = { validating: "正在检查", writing: "正在写入", succeeded: "导入完成", partial: "部分导入", failed: "导入失败" };
  function poll(job) {
    var bar = document.getElementById("import-progress"), msg = document.getElementById("import-message");
    var pct = job.total ? Math.round(job.processed / job.total * 70) : 0;
    bar.value = 30 + pct;
    msg.textContent = (LABEL[job.status] || job.status) + "：共 " + job.total + " 行，已处理 " + job.processed + " 行，写入 " + job.inserted + " 人，错误 " + job.error_count + " 处。" + (job.message || "");
    if (job.status === "validating" || job.status === "writing") {
      setTimeout(function () { k.api("GET", "/api/v1/talents/imports/" + job.id).then(poll).catch(k.showError); }, 700);
      return;
    }
    bar.value = 100;
    var t = document.getElementById("import-errors"); header(t);
    (job.errors || []).forEach(function (e) {
      var tr = document.createElement("tr");
      tr.innerHTML = "<td>" + esc(e.row) + "</td><td>" + esc(e.column) + "</td><td>" + esc(e.field) + "</td><td>" + esc(e.message) + "</td>";
      t.appendChild(tr);
    });
    t.hidden = !(job.errors || []).length;
    search();
  }
  refresh();
})();
