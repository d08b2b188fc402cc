// The rating pad at a window (好差评): after the window finishes a ticket, the citizen picks
// one of five levels; the two bad ones ask why. One rating per ticket. The pad rates for the
// window it was paired with (its cookie says which); an unpaired page shows the pairing form,
// where the code the admin console shows is typed.
"use strict";

(() => {
  const { el, t, clear, $, api, live, debounce } = JH;
  let windowNumber = Number(document.body.getAttribute("data-window")) || null;
  const box = $("#rate");
  let prompt = null;
  let thanksUntil = 0;
  let paired = false;

  function heading() {
    const page = $(".topbar .page");
    if (page) clear(page).append(el("span", { class: "zh" }, windowNumber + " 号窗口 · 服务评价"),
      el("span", { class: "en" }, "Window " + windowNumber + " · Rate our service"));
  }

  function pairing(message) {
    paired = false;
    const input = el("input", { id: "pair-code", name: "code", autocomplete: "off", maxlength: 12,
      autocapitalize: "characters", placeholder: "ABC234" });
    const form = el("form", { id: "pair-form", class: "card" },
      el("h1", {}, t("评价器配对", "Pair this rating pad")),
      el("div", { class: "sub" }, t("请管理员在管理后台“窗口”页生成配对码，并在此输入。", "Ask the admin for a pairing code (admin console, windows) and type it here.")),
      message ? el("div", { class: "error", id: "pair-error" }, t(message[0], message[1])) : null,
      el("label", {}, t("配对码 ", "Pairing code "), input),
      el("button", { class: "btn", type: "submit", id: "pair-submit" }, t("配对", "Pair")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await api("POST", "/api/rating-pad", { code: input.value });
      if (!answer.ok) return pairing(answer.message);
      windowNumber = answer.data.window;
      paired = true;
      heading();
      load();
    });
    clear(box).append(form);
    input.focus();
  }

  async function whoAmI() {
    const answer = await api("GET", "/api/rating-pad");
    if (answer.ok) {
      windowNumber = answer.data.window;
      paired = true;
      heading();
      return true;
    }
    // A signed-in admin may use a window's page unpaired (403: not a pad); anyone else pairs.
    if (answer.status === 403 && windowNumber) {
      paired = true;
      return true;
    }
    pairing(null);
    return false;
  }

  function idle() {
    clear(box).append(
      el("h1", {}, t("欢迎您对我们的服务进行评价", "Your opinion of our service is welcome")),
      el("div", { class: "sub" }, t("业务办理完成后，请在这里为本次服务评价。", "When your business is done, please rate the service here.")));
  }

  function ask() {
    clear(box).append(
      el("h1", {}, t("请您对本次服务进行评价", "How was our service?")),
      el("div", { class: "ticket" }, t("号码 ", "Ticket "), el("span", { class: "num", id: "rate-number" }, prompt.number),
        "　", t(prompt.service_name_zh, prompt.service_name_en)),
      el("div", { class: "choices" }, Object.entries(JH.RATINGS).map(([code, words]) =>
        el("button", { class: "choice " + (code.includes("dissatisfied") ? "bad" : "good"), type: "button", "data-rating": code,
          onclick: () => code.includes("dissatisfied") ? reasons(code) : send(code, null) },
          el("span", { class: "zh" }, words[0]), el("span", { class: "en" }, words[1])))));
  }

  function reasons(rating) {
    const words = JH.RATINGS[rating];
    clear(box).append(
      el("h1", {}, t("请告诉我们不满意的原因", "Please tell us what was wrong")),
      el("div", { class: "sub" }, t("您选择了：" + words[0], "You chose: " + words[1])),
      el("div", { class: "choices reasons" }, Object.entries(JH.REASONS).map(([code, reason]) =>
        el("button", { class: "choice bad", type: "button", "data-reason": code, onclick: () => phone(rating, code) },
          el("span", { class: "zh" }, reason[0]), el("span", { class: "en" }, reason[1])))),
      el("button", { class: "btn secondary", type: "button", onclick: ask }, t("返回重新选择", "Back")));
  }

  // A 差评 opens a case the hall calls back on: the citizen may leave a phone number for it.
  function phone(rating, reason, problem) {
    const input = el("input", { id: "callback-phone", type: "tel", inputmode: "numeric", maxlength: "11", autocomplete: "off",
      placeholder: "138xxxxxxxx", class: "phone" });
    clear(box).append(
      el("h1", {}, t("是否留下电话以便回访？", "Leave a phone number for a callback?")),
      el("div", { class: "sub" }, t("选填。我们将就您反映的问题回访并告知整改情况，号码仅用于回访，办结 30 天后删除。",
        "Optional. We will call you back about the problem and its fix; the number is used for that only and erased 30 days after.")),
      el("div", { role: "alert" }, problem ? el("div", { class: "notice error" }, t(problem[0], problem[1])) : null),
      el("div", { class: "phone-field" }, el("label", { for: "callback-phone" }, t("手机号码", "Mobile number")), input),
      el("div", { class: "choices two" },
        el("button", { class: "choice good", type: "button", id: "callback-send", onclick: () => send(rating, reason, input.value.trim()) },
          el("span", { class: "zh" }, "提交"), el("span", { class: "en" }, "Submit")),
        el("button", { class: "choice", type: "button", id: "callback-skip", onclick: () => send(rating, reason, "") },
          el("span", { class: "zh" }, "不留电话，直接提交"), el("span", { class: "en" }, "Submit without a number"))));
    input.focus();
  }

  async function send(rating, reason, callbackPhone) {
    const body = { number: prompt.number, rating, reason };
    if (callbackPhone) body.callback_phone = callbackPhone;
    const answer = await api("POST", "/api/windows/" + windowNumber + "/rating", body);
    if (!answer.ok && answer.data && answer.data.code === "invalid_phone") return phone(rating, reason, answer.message);
    if (!answer.ok && answer.status === 401) return pairing(answer.message);
    if (!answer.ok && answer.data && answer.data.code !== "already_rated") {
      clear(box).append(el("h1", {}, t(answer.message[0], answer.message[1])),
        el("div", { class: "sub" }, t("如有意见，请到咨询台反映，谢谢。", "You are welcome to tell the information desk.")));
      setTimeout(load, 6000);
      return;
    }
    thanksUntil = Date.now() + 8000;
    clear(box).append(
      el("div", { class: "thanks", id: "thanks" }, t("感谢您的评价！", "Thank you for your rating!")),
      el("div", { class: "sub" }, t("祝您生活愉快，欢迎再次光临。", "Have a good day.")));
    setTimeout(load, 8000);
  }

  const load = debounce(async () => {
    if (!paired || Date.now() < thanksUntil) return;
    const answer = await api("GET", "/api/windows/" + windowNumber + "/rating");
    prompt = answer.ok && answer.status === 200 ? answer.data : null;
    if (prompt && prompt.open) ask(); else idle();
  }, 200);

  live(() => {}, (name, data) => {
    if (data.window === windowNumber && (name === "ticket_finished" || name === "ticket_called")) load();
  });
  // The chance to rate ends after a while: look again now and then.
  setInterval(load, 30000);
  whoAmI().then((ok) => { if (ok) { idle(); load(); } });
})();
