// The citizen's phone page (/t/<token>): the number, how many are ahead, the estimated wait,
// the documents to bring; once called, a large "请到 3 号窗口" with a beep and a vibration where
// the phone allows them. Live, so the citizen can step out and come back in time. Nothing
// personal is shown.
"use strict";

(() => {
  const { el, t, clear, $, api, live, debounce } = JH;
  const token = location.pathname.split("/").pop();
  const box = $("#ticket");
  let status = null;
  let alerted = null;
  let audio = null;
  let alertsOn = false;

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const now = audio.currentTime;
      for (const [at, freq] of [[0, 880], [0.35, 660], [0.7, 880]]) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = freq;
        gain.gain.setValueAtTime(0.0001, now + at);
        gain.gain.exponentialRampToValueAtTime(0.4, now + at + 0.03);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.3);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + at);
        osc.stop(now + at + 0.32);
      }
    } catch (_) { /* no sound on this phone */ }
  }

  function vibrate() {
    try { if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 400]); } catch (_) { /* not allowed */ }
  }

  function render() {
    clear(box);
    if (!status) {
      box.append(el("div", { class: "ended warn" },
        t("找不到这张号票。号票只在取号当天有效；如有疑问，请到咨询台。",
          "This ticket cannot be found. Tickets are valid on the day they are taken; please ask at the information desk.")));
      return;
    }
    box.append(
      el("div", { class: "status muted" }, t("您的号码", "Your number")),
      el("div", { class: "tnum num", id: "number" }, status.number),
      el("div", { class: "tservice" }, t(status.service_name_zh, status.service_name_en),
        status.green_channel ? el("span", { class: "badge blue" }, t("绿色通道", "Green channel")) : null));
    const s = status.status;
    if (s === "called") {
      box.append(el("div", { class: "yourturn", id: "your-turn", role: "alert" },
        el("div", { class: "go zh" }, "请到 " + status.window + " 号窗口"),
        el("div", { class: "then zh" }, "办理您的业务"),
        el("div", { class: "go en" }, "Please go to window " + status.window),
        el("div", { class: "then en" }, "It is your turn")));
    } else if (s === "waiting" || s === "transferred") {
      const ahead = status.ahead ?? 0;
      box.append(el("div", { class: "status", id: "waiting" },
        el("div", { class: "big" }, t("前面还有 " + ahead + " 人", ahead + (ahead === 1 ? " person" : " people") + " ahead of you")),
        status.estimated_wait_min === null || status.estimated_wait_min === undefined
          ? el("div", {}, t("暂时无法估计等待时间", "The wait cannot be estimated yet"))
          : el("div", {}, t("预计等待约 " + status.estimated_wait_min + " 分钟", "Estimated wait: about " + status.estimated_wait_min + " min")),
        el("div", { class: "muted" }, t("轮到您时本页会提示，请留意叫号。", "This page tells you when it is your turn."))));
      if (!alertsOn) {
        box.append(el("button", { class: "btn secondary alertbtn", type: "button", id: "alerts",
          onclick: () => { alertsOn = true; beep(); vibrate(); render(); } },
          t("开启到号提醒（声音、振动）", "Turn on the alert (sound, vibration)")));
      } else {
        box.append(el("div", { class: "muted status" }, t("到号提醒已开启。", "The alert is on.")));
      }
    } else if (s === "done") {
      box.append(el("div", { class: "ended" }, t("业务已办理完成，感谢您的耐心等候。", "Your business is done. Thank you for waiting.")));
      box.append(rating());
    } else if (s === "no_show") {
      box.append(el("div", { class: "ended warn" }, t("您的号已过号。如需办理，请到咨询台。", "Your number was called but you were not there. Please ask at the information desk.")));
    } else {
      box.append(el("div", { class: "ended" }, t("这张号票已过期。", "This ticket has expired.")));
    }
    if (status.documents.length && s !== "done") {
      box.append(el("div", { class: "card" },
        el("h3", {}, t("请携带以下材料", "Please bring")),
        el("ul", { class: "docs" }, status.documents.map((doc, i) =>
          el("li", {}, t(doc, status.documents_en[i] || doc))))));
    }
    box.append(el("div", { class: "muted status" }, t("取号时间 " + JH.hhmm(status.issued_at), "Taken at " + JH.hhmm(status.issued_at))));
  }

  // 好差评 from the phone: once per ticket (一次一评), the five levels, a reason for the two bad.
  let bad = null;
  // Made once, so a re-render keeps what was typed.
  const callbackPhone = el("input", { id: "callback-phone", type: "tel", inputmode: "numeric", maxlength: "11",
    autocomplete: "tel", placeholder: "138xxxxxxxx" });
  function rating() {
    if (status.rating) {
      const words = JH.RATINGS[status.rating] || [status.rating, status.rating];
      return el("div", { class: "card", id: "rated" }, t("感谢您的评价：" + words[0], "Thank you for rating: " + words[1]));
    }
    if (!status.can_rate) {
      if (status.status !== "done" || !status.rate_until) return null;
      return el("div", { class: "muted", id: "rating-ended" },
        t("评价期已过（截至 " + status.rate_until + "）。", "The time to rate ended with " + status.rate_until + "."));
    }
    if (bad) {
      return el("div", { class: "card", id: "rate" }, el("h3", {}, t("请告诉我们原因", "Please tell us why")),
        el("label", { for: "callback-phone" }, t("回访电话（选填）：我们将在整改后与您联系", "Phone for a callback (optional): we will call you about the fix")),
        callbackPhone,
        el("div", { class: "choices rate-phone" }, Object.entries(JH.REASONS).map(([code, words]) =>
          el("button", { class: "btn secondary", type: "button", "data-reason": code, onclick: () => rate(bad, code) },
            t(words[0], words[1])))));
    }
    return el("div", { class: "card", id: "rate" }, el("h3", {}, t("请对本次服务作出评价", "Please rate our service")),
      status.rate_until ? el("div", { class: "muted" }, t("可评价至 " + status.rate_until + " 当日结束", "You may rate until the end of " + status.rate_until)) : null,
      el("div", { class: "choices rate-phone" }, Object.entries(JH.RATINGS).map(([code, words]) =>
        el("button", { class: "btn " + (code.includes("dissatisfied") ? "danger" : "secondary"), type: "button", "data-rating": code,
          onclick: () => code.includes("dissatisfied") ? (bad = code, render()) : rate(code, null) },
          t(words[0], words[1])))));
  }

  async function rate(code, reason) {
    const body = { rating: code };
    if (reason) body.reason = reason;
    if (reason && callbackPhone.value.trim()) body.callback_phone = callbackPhone.value.trim();
    const answer = await api("POST", "/api/tickets/" + encodeURIComponent(token) + "/rating", body);
    if (!answer.ok && answer.data && answer.data.code === "invalid_phone") return JH.toast(answer.message, "error");
    bad = null;
    if (answer.ok) status = answer.data;
    else JH.toast(answer.message, "error");
    render();
  }

  const load = debounce(async () => {
    const answer = await api("GET", "/api/tickets/" + encodeURIComponent(token));
    if (!answer.ok && answer.status !== 404) return; // the network: keep what is shown
    status = answer.ok ? answer.data : null;
    if (status && status.status === "called" && alerted !== status.called_at) {
      alerted = status.called_at;
      beep();
      vibrate();
    }
    render();
  }, 300);

  live(() => load(), (name, data) => {
    if (!status || data.number === status.number) load();
  });
  load();
})();
