// Live progress of a landing page, and (development only) the 模拟捐款 button, which goes
// through login, order and the stand-in's payment exactly as the mini-program would.
(function () {
  "use strict";
  var body = document.body;
  var unitCode = body.getAttribute("data-unit");
  var campaignCode = body.getAttribute("data-campaign");
  var POLL_MS = 5000;

  function yuan(fen) {
    var whole = Math.floor(fen / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var cents = String(fen % 100);
    return whole + "." + (cents.length < 2 ? "0" + cents : cents);
  }

  function show(id, text) {
    var node = document.getElementById(id);
    if (node) { node.textContent = text; }
  }

  function getJson(path) {
    return fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (reply) {
        if (!reply.ok) { throw new Error("HTTP " + reply.status); }
        return reply.json();
      });
  }

  function refresh() {
    var unitReply = getJson("/api/units/" + encodeURIComponent(unitCode));
    var campaignReply = getJson("/api/campaigns/" + encodeURIComponent(campaignCode));
    return Promise.all([unitReply, campaignReply]).then(function (replies) {
      var mine = replies[0].totals.filter(function (t) { return t.campaign === campaignCode; })[0];
      if (mine) {
        show("unit-total", yuan(mine.total_fen));
        show("unit-donors", String(mine.donor_count));
        show("unit-donations", String(mine.donation_count));
      }
      var campaign = replies[1];
      show("campaign-total", yuan(campaign.total_fen));
      show("campaign-donors", String(campaign.donor_count));
      show("campaign-donations", String(campaign.donation_count));
      show("updated", "更新于 " + new Date().toLocaleTimeString("zh-CN", { hour12: false }));
    }).catch(function () { show("updated", "暂时无法刷新，稍后自动重试"); });
  }

  function postJson(path, payload, token) {
    var headers = { "Content-Type": "application/json" };
    if (token) { headers.Authorization = "Bearer " + token; }
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(payload) })
      .then(function (reply) {
        return reply.json().then(function (data) {
          if (!reply.ok) { throw new Error((data.error && data.error.message) || reply.status); }
          return data;
        });
      });
  }

  function simulate(button) {
    button.disabled = true;
    show("simulate-status", "正在登录…");
    var code = "landing-" + Date.now() + "-" + Math.random().toString(36).slice(2);
    postJson("/api/login", { code: code }).then(function (login) {
      show("simulate-status", "正在下单…");
      var order = { campaign: campaignCode, unit: unitCode, quantity: 1 };
      return postJson("/api/donations", order, login.token);
    }).then(function (donation) {
      show("simulate-status", "正在模拟微信支付…");
      return postJson("/dev/simulate-payment/" + encodeURIComponent(donation.out_trade_no), {});
    }).then(function () {
      show("simulate-status", "模拟捐款成功，进度已更新");
      return refresh();
    }).catch(function (error) {
      show("simulate-status", "模拟捐款失败：" + error.message);
    }).then(function () { button.disabled = false; });
  }

  var button = document.getElementById("simulate");
  if (button) { button.addEventListener("click", function () { simulate(button); }); }
  window.setInterval(refresh, POLL_MS);
})();
