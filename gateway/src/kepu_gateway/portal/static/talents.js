// 人才库 page: search (masked list), review queue, draft form, import with progress.
(function () {
  "use strict";
  var k = window.kepu, esc = k.esc;
  function header(table) { var rows = table.querySelectorAll("tr"); for (var i = rows.length - 1; i > 0; i--) rows[i].remove(); }
  function search(ev) {
    if (ev) ev.preventDefault();
    k.clearError();
    var f = new FormData(document.getElementById("search")), q = new URLSearchParams();
    f.forEach(function (v, key) { if (v) q.append(key, v); });
    k.api("GET", "/api/v1/talents?" + q.toString()).then(function (res) {
      var t = document.getElementById("talent-list"); header(t);
      (res.talents || []).forEach(function (x) {
        var tr = document.createElement("tr"), act = "";
        if (x.status === "draft") act = '<button class="small" data-recommend="' + esc(x.id) + '">推荐</button>';
        tr.innerHTML = "<td>" + esc(x.fields.name) + "</td><td>" + esc(x.fields.gender) + "</td><td>" + esc(x.tenant_name) +
          "</td><td>" + esc(x.fields.specialty) + "</td><td>" + esc(x.fields.phone) + "</td><td>" + esc(x.status_label || x.status) + "</td><td>" + act + "</td>";
        t.appendChild(tr);
      });
      document.getElementById("talent-total").textContent = "共 " + (res.total || 0) + " 人";
    }).catch(k.showError);
  }
  function queue() {
    Promise.all([
      k.api("GET", "/api/v1/talents?status=recommended&page_size=100"),
      k.api("GET", "/api/v1/talents?status=city_reviewed&page_size=100")
    ]).then(function (res) {
      var t = document.getElementById("review-queue"); header(t);
      var items = (res[0].talents || []).concat(res[1].talents || []);
      if (!items.length) { var tr0 = document.createElement("tr"); tr0.innerHTML = '<td colspan="5" class="hint">暂无待审核的人才。</td>'; t.appendChild(tr0); }
      items.forEach(function (x) {
        var tr = document.createElement("tr");
        tr.innerHTML = "<td>" + esc(x.fields.name) + "</td><td>" + esc(x.tenant_name) + "</td><td>" + esc(x.status_label || x.status) +
          '</td><td><input data-opinion="' + esc(x.id) + '" placeholder="审核意见（不通过时必填）"></td><td><button class="small" data-review="approve" data-id="' +
          esc(x.id) + '">通过</button> <button class="small gray" data-review="reject" data-id="' + esc(x.id) + '">不通过</button></td>';
        t.appendChild(tr);
      });
    }).catch(k.showError);
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target;
    if (b.dataset && b.dataset.recommend) {
      var op = prompt("推荐意见：", "同意推荐");
      if (op === null) return;
      k.api("POST", "/api/v1/talents/" + b.dataset.recommend + "/recommend", { opinion: op })
        .then(function () { search(); queue(); }).catch(k.showError);
    }
    if (b.dataset && b.dataset.review) {
      var input = document.querySelector('[data-opinion="' + b.dataset.id + '"]');
      k.api("POST", "/api/v1/talents/" + b.dataset.id + "/review", { decision: b.dataset.review, opinion: input ? input.value : "" })
        .then(function () { search(); queue(); }).catch(k.showError);
    }
  });
  document.getElementById("search").addEventListener("submit", search);
  var create = document.getElementById("create"), importForm = document.getElementById("import");
  if (create) create.addEventListener("submit", function (ev) {
    ev.preventDefault(); k.clearError();
    var f = new FormData(ev.target), body = { categories: f.getAll("categories") };
    ["name", "gender", "birth_month", "phone", "specialty", "employer"].forEach(function (n) { body[n] = f.get(n) || ""; });
    k.api("POST", "/api/v1/talents", body).then(function () { ev.target.reset(); search(); }).catch(k.showError);
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
  search(); queue();
})();
