//! Every word the kiosk shows or prints, in Chinese and in English, in the plain register of a
//! service hall. Templates carry `{n}`, `{from}`, `{to}` or `{time}` placeholders, filled by
//! [`fill`]. [`Words::all`] lists every string, so a test can check the bundled font has every
//! character of both languages.

/// The language the citizen reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Parses `zh` or `en` (as on the command line).
    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "zh" | "zh-cn" | "cn" | "中文" => Some(Lang::Zh),
            "en" | "english" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn words(self) -> &'static Words {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// The other language: what the language button switches to.
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// Picks the string of this language out of a Chinese/English pair, falling back to the
    /// Chinese one when the English one is empty.
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::En if !en.trim().is_empty() => en,
            _ => zh,
        }
    }
}

/// A date `YYYY-MM-DD` and weekday `monday` … as the kiosk says it: `12月7日 星期一` or
/// `Monday 7 December`.
pub fn opening_date(lang: Lang, date: &str, weekday: &str) -> String {
    const WEEKDAYS: [(&str, &str, &str); 7] = [
        ("monday", "星期一", "Monday"),
        ("tuesday", "星期二", "Tuesday"),
        ("wednesday", "星期三", "Wednesday"),
        ("thursday", "星期四", "Thursday"),
        ("friday", "星期五", "Friday"),
        ("saturday", "星期六", "Saturday"),
        ("sunday", "星期日", "Sunday"),
    ];
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = date
        .split('-')
        .skip(1)
        .map(|p| p.parse::<usize>().unwrap_or(0));
    let (month, day) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    let names = WEEKDAYS.iter().find(|(key, ..)| *key == weekday);
    match (lang, names) {
        (_, _) if !(1..=12).contains(&month) => date.to_owned(),
        (Lang::Zh, Some((_, zh, _))) => format!("{month}月{day}日 {zh}"),
        (Lang::Zh, None) => format!("{month}月{day}日"),
        (Lang::En, Some((_, _, en))) => format!("{en} {day} {}", MONTHS[month - 1]),
        (Lang::En, None) => format!("{day} {}", MONTHS[month - 1]),
    }
}

/// Replaces each `{key}` in `template` by its value.
pub fn fill(template: &str, values: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = template.to_owned();
    for (key, value) in values {
        text = text.replace(&format!("{{{key}}}"), &value.to_string());
    }
    text
}

macro_rules! words {
    ($( $(#[$doc:meta])* $name:ident: $zh:literal, $en:literal; )*) => {
        /// The kiosk's words in one language.
        #[derive(Debug)]
        pub struct Words {
            $( $(#[$doc])* pub $name: &'static str, )*
        }

        pub const ZH: Words = Words { $( $name: $zh, )* };
        pub const EN: Words = Words { $( $name: $en, )* };

        impl Words {
            /// Every string, templates included (their placeholders are ASCII).
            pub fn all(&self) -> Vec<&'static str> {
                vec![$( self.$name, )*]
            }
        }
    };
}

words! {
    /// The window title.
    title: "自助取号", "Ticket kiosk";
    /// The greeting on the welcome screen (来去有声).
    greeting: "您好，请选择您要办理的业务", "Hello! Please choose the service you need";
    /// The language button shows the language it switches to.
    switch_language: "English", "中文";
    elderly_on: "长者模式", "Large text";
    elderly_off: "标准模式", "Standard text";
    connecting: "正在连接大厅系统，请稍候…", "Connecting to the hall system, one moment…";
    no_services: "暂无可办理的业务，请到咨询台", "No service is available now; please ask at the information desk";
    waiting: "等候 {n} 人", "{n} waiting";
    wait_about: "预计等待约 {n} 分钟", "About {n} min wait";
    wait_none: "预计无需等待", "Little or no wait";
    wait_unknown: "窗口暂未开始办理", "No window is serving yet";
    hours: "取号时段 {from}–{to}", "Tickets {from}–{to}";
    closed_disabled: "暂停办理", "Not available now";
    closed_not_open: "不在取号时段", "Outside ticket hours";
    closed_cap: "今日号已取完", "All of today's tickets are taken";
    closed_other: "暂不能取号", "No tickets now";
    /// A closed day by the hall calendar (a weekend or a public holiday).
    hall_closed: "今日不办公", "The hall is closed today";
    hall_closed_holiday: "今日不办公（法定节假日）", "The hall is closed today (public holiday)";
    next_opening: "下次办公时间：{date} {time}", "Next opening: {date} at {time}";
    next_opening_unknown: "办公时间请留意大厅公告", "Please see the hall's notices for its opening days";
    page: "第 {n} 页，共 {of} 页", "Page {n} of {of}";
    previous_page: "◀ 上一页", "◀ Previous";
    next_page: "下一页 ▶", "Next ▶";
    back: "◀ 返回", "◀ Back";
    confirm: "请确认您要办理的业务", "Please confirm the service you need";
    take_ticket: "取号", "Take a ticket";
    take_green: "绿色通道取号", "Priority ticket";
    green_who: "老年人 / 残疾人 / 军人家属 等优先", "Elderly, disabled, military families and others";
    green_check: "绿色通道资格由窗口工作人员核验", "The window clerk checks who may use priority";
    documents: "请携带以下材料（一次性告知）", "Please bring these documents";
    no_documents: "无需携带材料", "No documents are needed";
    fee: "收费说明", "Fees";
    documents_button: "请携带以下材料（共 {n} 项）▶", "Documents to bring ({n}) ▶";
    back_to_ticket: "◀ 返回号票", "◀ Back to my ticket";
    issuing: "正在取号，请稍候…", "Taking your ticket, one moment…";
    your_number: "您的号码", "Your number";
    green_mark: "绿色通道", "Priority";
    /// On a booking's ticket and slip, with its slot (`09:30–10:00`).
    booked_mark: "预约 {slot}", "Booked {slot}";
    ahead: "前面还有 {n} 人", "{n} people ahead of you";
    ahead_none: "前面没有人等候", "No one is ahead of you";
    issued_at: "取号时间 {time}", "Issued at {time}";
    scan: "扫码在手机上查看排队进度", "Scan to follow the queue on your phone";
    qr_label: "号票二维码", "Ticket QR code";
    thanks: "请保管好您的号票，留意叫号", "Please keep your ticket and listen for your number";
    printing: "正在打印号票…", "Printing your ticket…";
    printed: "请取走打印好的号票", "Please take your printed ticket";
    print_fault: "打印机故障，请拍照或扫码保存", "Printer fault: please photograph or scan the code";
    no_printer: "请拍照或扫码保存号码", "Please photograph or scan the code";
    done: "完成", "Done";
    /// The welcome screen's button and the check-in screen's title.
    check_in: "预约签到", "Booking check-in";
    check_in_prompt: "请刷身份证，或输入身份证号码、预约号", "Lay your ID card on the reader, or type your ID number or booking code";
    check_in_submit: "签到", "Check in";
    key_delete: "删除", "Delete";
    /// The keypad's switch to its letter page (booking codes) and back to digits.
    key_letters: "字母 ABC", "Letters ABC";
    key_digits: "数字 123", "Digits 123";
    checking_in: "正在签到，请稍候…", "Checking in, please wait…";
    reader_garbage: "读卡失败，请重新刷卡或手动输入", "The card could not be read: lay it on the reader again, or type the number";
    reader_unplugged: "读卡器未连接，请手动输入", "The card reader is not connected: please type the number";
    check_in_failed: "签到没有成功，请到咨询台。", "The check-in did not work: please ask at the information desk.";
    returning: "{n} 秒后返回首页", "Back to the start in {n} s";
    paused: "暂停取号，请到咨询台", "Ticketing paused, please ask at the information desk";
    paused_detail: "网络连接中断，正在自动重新连接…", "The connection to the hall system is lost; reconnecting automatically…";
    error_not_open: "该业务现在不在取号时段，请留意大厅公告的取号时间", "This service is not issuing tickets right now; please see the ticket hours in the hall";
    error_hall_closed: "今日不办公，请在办公日前来办理，办公时间请留意大厅公告", "The hall is closed today; please come back on a working day (see the hall's notices for the opening days)";
    error_cap: "该业务今日号已取完，请明天再来或到咨询台", "All of today's tickets for this service are taken; please come back tomorrow or ask at the information desk";
    error_disabled: "该业务暂停办理，请到咨询台咨询", "This service is not available at the moment; please ask at the information desk";
    error_busy: "取号人数较多，请稍后再试", "Many people are taking tickets; please try again in a moment";
    error_too_many: "取号过于频繁，请稍后再试或到咨询台", "Too many tickets in a short time; please try again later or ask at the information desk";
    error_kiosk: "本机暂不能取号，请到咨询台", "This kiosk cannot issue tickets right now; please ask at the information desk";
    error_service_changed: "该业务已调整，请重新选择", "This service has changed; please choose again";
    error_other: "未能取号，请重试或到咨询台", "Could not take a ticket; please try again or ask at the information desk";
    dismiss: "知道了", "OK";
    /// The rule of order, one line on the welcome screen (the hub's queue-time invariant).
    order_rule: "同一业务、同一类别的号票按排队时间先后叫号；预约提前签到的，按预约时段开始时间排队", "Tickets of one service and class are called in queue-time order; a booking checked in early queues from its slot start";
    /// On the service step of a service with `identity = "required"`.
    identity_needed: "本业务需凭身份证取号，每人每天一个号", "This service needs your ID card: one ticket per person a day";
    /// The ID screen's prompt, with the service's name.
    identity_prompt: "办理“{service}”请刷身份证，或输入身份证号码", "For {service}, lay your ID card on the reader or type your ID number";
    /// A reprint of the person's earlier ticket of today: the badge on screen and the slip.
    reprint_mark: "补打号票", "Reprinted ticket";
    reprint_note: "您今天已取过该业务的号，号码不变", "You already took a ticket for this service today: your number stays the same";
    touch_to_start: "请触摸屏幕开始取号", "Touch the screen to take a ticket";
    notices: "大厅公告", "Hall notices";
    slip_service: "业务：{n}", "Service: {n}";
    slip_wait: "预计等待约 {n} 分钟", "Estimated wait: about {n} min";
    slip_documents: "请携带以下材料：", "Please bring:";
    slip_fee: "收费：{n}", "Fees: {n}";
    slip_scan: "扫码查看排队进度", "Scan to follow the queue";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_string() {
        assert_eq!(ZH.all().len(), EN.all().len());
        for (zh, en) in ZH.all().into_iter().zip(EN.all()) {
            assert!(!zh.trim().is_empty() && !en.trim().is_empty());
        }
    }

    #[test]
    fn templates_are_filled() {
        assert_eq!(fill(ZH.ahead, &[("n", &5)]), "前面还有 5 人");
        assert_eq!(
            fill(EN.hours, &[("from", &"08:30"), ("to", &"17:00")]),
            "Tickets 08:30–17:00"
        );
    }

    #[test]
    fn english_falls_back_to_chinese_when_missing() {
        assert_eq!(Lang::En.pick("户籍", ""), "户籍");
        assert_eq!(Lang::En.pick("户籍", "Household"), "Household");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }
}
