// The citizen's booking page (/book): one decision per screen — service, day, slot, who
// (name, ID number checked as it is typed, phone), the SMS code, then the booking code large
// with its QR code, the slot, the documents to bring, "add to calendar" and "cancel".
"use strict";

(() => {
  const { el, t, clear, $, api } = JH;
  const box = $("#book");
  const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const CHECK = "10X98765432";
  // The bar and the lapse are the hall's settings: their refusals come in the hub's own words.
  const WORDS = {
    slot_full: ["该时段已约满，请选择其他时段。", "This slot is full: please choose another."],
    already_booked: ["您当天已预约该业务，每人每天每项业务限约一次。", "You already have a booking of this service that day."],
    booking_day_closed: ["这一天不能预约，请选择其他日期。", "This day cannot be booked: please choose another."],
    wrong_sms_code: ["验证码不对，请核对短信后重新输入。", "The code is wrong: check the SMS and enter it again."],
    cancel_too_late: ["距离预约时段不足 2 小时，已不能取消。", "Less than 2 hours before the slot: it can no longer be cancelled."],
    sms_failed: ["验证短信发送失败，请稍后重试。", "The SMS could not be sent: please try again shortly."],
    too_many_requests: ["操作太频繁，请稍后再试。", "Too many attempts: please wait a moment."],
  };
  const state = { services: [], service: null, day: null, days: [], slot: null, booking: null, resendAt: 0 };

  function idProblem(text) {
    const id = text.trim().toUpperCase();
    if (id.length < 18) return null; // still typing
    if (id.length > 18) return ["身份证号码应为 18 位。", "An ID number has 18 characters."];
    if (!/^[0-9]{17}[0-9X]$/.test(id)) return ["只有最后一位可以是 X，其余都是数字。", "Only the last character may be X; the rest are digits."];
    const sum = WEIGHTS.reduce((acc, w, i) => acc + w * Number(id[i]), 0);
    if (CHECK[sum % 11] !== id[17]) return ["校验位不对，请检查是否输错。", "The check character is wrong: please check for a typing error."];
    return "ok";
  }

  function say(answer) {
    const code = answer.data && answer.data.code;
    const words = (code && WORDS[code]) || answer.message || ["操作没有成功，请稍后再试。", "That did not work; please try again."];
    return el("div", { class: "notice error", role: "alert" }, t(words[0], words[1]));
  }

  function step(title, ...children) {
    clear(box);
    box.append(el("h2", {}, title), ...children.filter((child) => child !== null && child !== undefined));
  }

  function back(to) {
    return el("button", { class: "btn secondary", type: "button", onclick: to }, t("返回上一步", "Back"));
  }

  async function loadServices() {
    const answer = await api("GET", "/api/services");
    if (!answer.ok) { step(t("预约办事", "Book an appointment"), say(answer)); return; }
    const found = [];
    for (const service of answer.data) {
      if (!service.enabled) continue;
      const settings = await api("GET", "/api/services/" + encodeURIComponent(service.code) + "/booking");
      if (settings.ok) found.push(service);
    }
    state.services = found;
    chooseService();
  }

  function chooseService() {
    if (!state.services.length) {
      step(t("预约办事", "Book an appointment"),
        el("div", { class: "ended" }, t("本大厅暂无可预约的业务，请现场取号。", "No service of this hall takes bookings now: please take a ticket at the hall.")));
      return;
    }
    step(t("请选择要预约的业务", "Choose the service"),
      el("div", { class: "choice-list" }, state.services.map((service) =>
        el("button", { class: "btn big-choice", type: "button", "data-service": service.code,
          onclick: () => { state.service = service; chooseDay(); } },
          t(service.name_zh, service.name_en)))));
  }

  async function slotsOf(date) {
    return api("GET", "/api/bookings/slots?service=" + encodeURIComponent(state.service.code) + "&date=" + date);
  }

  async function chooseDay() {
    const today = new Date(JH.clock.now());
    const answer = await slotsOf(today.toISOString().slice(0, 10));
    if (!answer.ok) { step(t("请选择日期", "Choose the day"), say(answer), back(chooseService)); return; }
    state.days = answer.data.days;
    const weekday = (iso) => {
      const d = new Date(iso + "T00:00:00Z").getUTCDay();
      return [["周日", "Sun"], ["周一", "Mon"], ["周二", "Tue"], ["周三", "Wed"], ["周四", "Thu"], ["周五", "Fri"], ["周六", "Sat"]][d];
    };
    step(t("请选择日期", "Choose the day"),
      el("div", { class: "muted" }, t(state.service.name_zh, state.service.name_en)),
      state.days.length
        ? el("div", { class: "day-strip" }, state.days.map((day) => {
          const [zh, en] = weekday(day);
          return el("button", { class: "btn day", type: "button", "data-day": day,
            onclick: () => { state.day = day; chooseSlot(); } },
            el("div", { class: "num" }, day.slice(5)), t(zh, en));
        }))
        : el("div", { class: "ended" }, t("近期没有可预约的工作日。", "No working day can be booked soon.")),
      el("div", { class: "muted" }, t("只能预约今后的工作日；法定节假日和休息日不办公。", "Only the coming working days can be booked; the hall is closed on holidays and rest days.")),
      back(chooseService));
  }

  async function chooseSlot() {
    const answer = await slotsOf(state.day);
    if (!answer.ok) { step(t("请选择时段", "Choose the time"), say(answer), back(chooseDay)); return; }
    const slots = answer.data;
    step(t("请选择时段", "Choose the time"),
      el("div", { class: "muted" }, t(state.service.name_zh + " · " + state.day, state.service.name_en + " · " + state.day)),
      slots.bookable ? null : el("div", { class: "ended warn" }, slots.reason || ""),
      el("div", { class: "slot-grid" }, slots.slots.map((slot) =>
        el("button", { class: "btn slot" + (slot.remaining ? "" : " full"), type: "button", "data-slot": slot.start,
          disabled: slot.remaining === 0, onclick: () => { state.slot = slot; who(); } },
          el("div", { class: "num" }, slot.start + "–" + slot.end),
          slot.remaining ? t("剩余 " + slot.remaining, slot.remaining + " left") : t("已约满", "Full")))),
      back(chooseDay));
  }

  function who(problem) {
    const name = el("input", { id: "name", autocomplete: "name", maxlength: "50" });
    const id = el("input", { id: "id-number", inputmode: "text", autocomplete: "off", maxlength: "18",
      pattern: "[0-9Xx]*", spellcheck: "false" });
    const idNote = el("div", { class: "hint", id: "id-note", "aria-live": "polite" });
    const phone = el("input", { id: "phone", inputmode: "numeric", autocomplete: "tel", maxlength: "11" });
    id.addEventListener("input", () => {
      id.value = id.value.toUpperCase().replace(/[^0-9X]/g, "");
      const p = idProblem(id.value);
      clear(idNote);
      if (p && p !== "ok") idNote.append(el("span", { class: "bad" }, t(p[0], p[1])));
      if (p === "ok") idNote.append(el("span", { class: "good" }, t("号码格式正确", "The number is well formed")));
    });
    const submit = el("button", { class: "btn wide", type: "submit", id: "send" }, t("获取短信验证码", "Send me the SMS code"));
    const form = el("form", { onsubmit: async (event) => {
      event.preventDefault();
      if (idProblem(id.value) !== "ok") { id.focus(); id.dispatchEvent(new Event("input")); return; }
      submit.disabled = true;
      const key = "book-" + Math.random().toString(36).slice(2) + Date.now();
      const answer = await apiWithKey("/api/bookings", key, {
        service: state.service.code, date: state.day, start: state.slot.start,
        name: name.value, id_number: id.value, phone: phone.value,
      });
      submit.disabled = false;
      if (!answer.ok) { who(answer); return; }
      state.booking = answer.data;
      state.resendAt = Date.now() + 60000;
      verify();
    } },
      el("label", { for: "name" }, t("姓名", "Name")), name,
      el("label", { for: "id-number" }, t("身份证号码", "Resident ID number")), id, idNote,
      el("label", { for: "phone" }, t("手机号码", "Mobile number")), phone,
      el("p", { class: "muted small" }, t("身份证号码只用于核对身份，系统不保存明文；姓名和手机号在预约日后 30 天删除。",
        "The ID number is only used to recognise you and is never stored in clear; name and phone are erased 30 days after the booking.")),
      submit);
    step(t("请填写预约人信息", "Who is coming"),
      el("div", { class: "muted" }, t(state.service.name_zh + " · " + state.day + " " + state.slot.start,
        state.service.name_en + " · " + state.day + " " + state.slot.start)),
      problem ? say(problem) : null, form, back(chooseSlot));
  }

  async function apiWithKey(path, key, body) {
    let response;
    try {
      response = await fetch(path, { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body) });
    } catch (_) {
      return { ok: false, status: 0, data: null, message: ["网络连接中断，请检查网络后重试。", "The network connection is down: check it and try again."] };
    }
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    return { ok: response.ok, status: response.status, data, message: JH.words(data, response.status) };
  }

  function verify(problem) {
    const code = el("input", { id: "sms-code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
    const countdown = el("div", { class: "muted", id: "resend" });
    const tick = () => {
      const left = Math.ceil((state.resendAt - Date.now()) / 1000);
      clear(countdown);
      if (left > 0) { countdown.append(t(left + " 秒后可重新获取验证码", "A new code can be asked for in " + left + " s")); setTimeout(tick, 1000); }
      else countdown.append(el("button", { class: "btn secondary small", type: "button", onclick: () => who() },
        t("没收到？重新填写", "No SMS? Fill in again")));
    };
    const form = el("form", { onsubmit: async (event) => {
      event.preventDefault();
      const answer = await api("POST", "/api/bookings/" + state.booking.code + "/verify", { sms_code: code.value });
      if (!answer.ok) { verify(answer); return; }
      state.booking.verified = true;
      remember(state.booking);
      done();
    } },
      el("label", { for: "sms-code" }, t("短信验证码（6 位数字）", "SMS code (6 digits)")), code,
      el("button", { class: "btn wide", type: "submit", id: "verify" }, t("确认预约", "Confirm the booking")));
    step(t("请输入短信验证码", "Enter the SMS code"),
      el("div", { class: "muted" }, t("验证码已发送到您的手机，请在短信注明的有效时间内输入。", "The code was sent to your phone: enter it within the time the SMS gives.")),
      problem ? say(problem) : null, form, countdown);
    tick();
  }

  function remember(booking) {
    try { localStorage.setItem("jh-booking-" + booking.code, JSON.stringify(booking)); } catch (_) { /* private mode */ }
  }

  function done() {
    const b = state.booking;
    const service = state.services.find((s) => s.code === b.service) || state.service || { name_zh: b.service, name_en: b.service, documents_zh: [], documents_en: [] };
    const cancel = el("button", { class: "linklike", type: "button", id: "cancel", onclick: async () => {
      if (!confirm(JH.lang() === "en" ? "Cancel this booking?" : "确定取消这个预约吗？")) return;
      const answer = await api("DELETE", "/api/bookings/" + b.code + "?cancel_token=" + encodeURIComponent(b.cancel_token));
      if (!answer.ok) { box.append(say(answer)); return; }
      step(t("预约已取消", "Booking cancelled"), el("div", { class: "ended" }, t("预约 " + b.code + " 已取消。", "Booking " + b.code + " is cancelled.")),
        el("div", { class: "links" }, el("a", { href: "/book", id: "book-again" }, t("重新预约", "Book again"))));
    } }, t("取消预约", "Cancel the booking"));
    step(t("预约成功", "You are booked"),
      el("div", { class: "status muted" }, t("您的预约号", "Your booking code")),
      el("div", { class: "tnum num bcode", id: "booking-code" }, b.code),
      el("img", { class: "qr", src: "/book/" + b.code + "/qr.svg", alt: "QR " + b.code, width: "220", height: "220" }),
      el("div", { class: "tservice" }, t(service.name_zh, service.name_en)),
      el("div", { class: "status", id: "slot" }, b.date + " " + b.start + "–" + b.end),
      el("div", { class: "muted status" }, t("请在时段开始前 30 分钟到开始后 15 分钟之间，到大厅取号机刷身份证或输入预约号签到。",
        "Check in at the hall's kiosk with your ID card or this code, from 30 minutes before the slot to 15 minutes after its start.")),
      service.documents_zh && service.documents_zh.length ? el("div", { class: "card" },
        el("h3", {}, t("请携带以下材料", "Please bring")),
        el("ul", { class: "docs" }, service.documents_zh.map((doc, i) => el("li", {}, t(doc, (service.documents_en || [])[i] || doc))))) : null,
      el("div", { class: "links" },
        el("a", { href: "/book/" + b.code + "/calendar.ics", id: "ics", download: "booking-" + b.code + ".ics" }, t("添加到日历", "Add to calendar")),
        cancel));
  }

  // /book/<code>: a booking this phone made before.
  const parts = location.pathname.split("/").filter(Boolean);
  if (parts.length === 2) {
    let saved = null;
    try { saved = JSON.parse(localStorage.getItem("jh-booking-" + parts[1]) || "null"); } catch (_) { saved = null; }
    if (saved) {
      state.booking = saved;
      api("GET", "/api/services").then((answer) => { if (answer.ok) state.services = answer.data; done(); });
      return;
    }
  }
  loadServices();
})();
