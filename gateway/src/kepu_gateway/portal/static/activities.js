// The 活动 page (served as a file: the Content-Security-Policy allows no inline script).
(function () {
  var k = window.kepu, esc = k.esc;
  function list() {
    var sub = document.getElementById("subtree").checked;
    k.api("GET", "/api/v1/activities?limit=200&subtree=" + sub).then(function (res) {
      var t = document.getElementById("activity-list"), rows = t.querySelectorAll("tr");
      for (var i = rows.length - 1; i > 0; i--) rows[i].remove();
      (res.activities || []).forEach(function (a) {
        var tr = document.createElement("tr");
        tr.innerHTML = "<td>" + esc(a.date) + "</td><td>" + esc(a.title) + "</td><td>" + esc(a.place) + "</td><td>" + esc(a.form) + "</td><td>" + esc(a.target) + "</td><td>" + esc(a.participants) + "</td>";
        t.appendChild(tr);
      });
    }).catch(k.showError);
  }
  document.getElementById("subtree").addEventListener("change", list);
  document.getElementById("activity").addEventListener("submit", function (ev) {
    ev.preventDefault(); k.clearError();
    var f = new FormData(ev.target), body = {};
    ["title", "date", "place", "form", "target"].forEach(function (n) { body[n] = f.get(n) || ""; });
    body.participants = Number(f.get("participants") || 0);
    k.api("POST", "/api/v1/activities", body).then(function () { ev.target.reset(); list(); }).catch(k.showError);
  });
  list();
})();
