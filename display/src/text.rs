//! Every word the display shows, Chinese first and English as a full second language, in the
//! plain register of a service hall. Kept in one place so a test can render them all and fail
//! on a character the bundled font lacks.

/// A Chinese text and its English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Words {
    pub zh: &'static str,
    pub en: &'static str,
}

const fn words(zh: &'static str, en: &'static str) -> Words {
    Words { zh, en }
}

pub const NOW_CALLING: Words = words("正在叫号", "Now calling");
pub const CALLING_AGAIN: Words = words("重复叫号", "Calling again");
pub const NO_CALLS_YET: Words = words("暂无叫号", "No numbers called yet");
pub const LISTEN: Words = words("请留意叫号", "Please listen for your number");
pub const RECENT_CALLS: Words = words("最近叫号", "Recent calls");
pub const WINDOWS: Words = words("窗口状态", "Windows");
pub const SERVICES: Words = words("排队等候", "Waiting");
pub const SERVING: Words = words("正在办理", "Now serving");
pub const READY: Words = words("等候叫号", "Ready");
pub const PAUSED: Words = words("暂停服务", "Paused");
pub const CLOSED: Words = words("已关闭", "Closed");
pub const NO_WINDOW_OPEN: Words = words("暂无窗口办理", "No window open");
pub const NOT_ISSUING: Words = words("已停止取号", "Not issuing now");
/// A closed day by the hall calendar.
pub const HALL_CLOSED: Words = words("今日不办公", "The hall is closed today");
pub const NEXT_OPENING: Words = words("下次办公时间", "Next opening");
pub const LIVE: Words = words("实时", "Live");
pub const CONNECTING: Words = words("正在连接", "Connecting");
pub const RECONNECTING: Words = words("正在重新连接", "Reconnecting");
pub const STALE: Words = words(
    "连接中断，正在重新连接。以下信息可能不是最新",
    "Connection lost, reconnecting. What is shown may be out of date",
);
pub const CONNECTING_SCREEN: Words =
    words("正在连接叫号服务器…", "Connecting to the queue server…");
pub const UNREACHABLE_SCREEN: Words = words(
    "无法连接叫号服务器，正在重试…",
    "Cannot reach the queue server, retrying…",
);
pub const COME_TO_THIS_WINDOW: Words = words("请到本窗口办理", "Please come to this window");
pub const PAUSED_ADVICE: Words = words(
    "请稍候，或到其他窗口办理",
    "Please wait, or go to another window",
);
pub const CLOSED_ADVICE: Words = words("请到其他窗口办理", "Please go to another window");
pub const READY_ADVICE: Words = words("请留意叫号", "Please listen for your number");
pub const NOTICES: Words = words("警务公开", "Notices");
/// The title before the hall's own name is known.
pub const TITLE: Words = words("排队叫号", "Queue display");

/// The fixed words, for the font-coverage test.
pub const ALL: &[Words] = &[
    NOW_CALLING,
    CALLING_AGAIN,
    NO_CALLS_YET,
    LISTEN,
    RECENT_CALLS,
    WINDOWS,
    SERVICES,
    SERVING,
    READY,
    PAUSED,
    CLOSED,
    NO_WINDOW_OPEN,
    NOT_ISSUING,
    HALL_CLOSED,
    NEXT_OPENING,
    LIVE,
    CONNECTING,
    RECONNECTING,
    STALE,
    CONNECTING_SCREEN,
    UNREACHABLE_SCREEN,
    COME_TO_THIS_WINDOW,
    PAUSED_ADVICE,
    CLOSED_ADVICE,
    READY_ADVICE,
    NOTICES,
    TITLE,
];

/// "请 A012 号 到 3 号窗口" in pieces: the words around the two numbers.
pub const CALL_PLEASE: &str = "请";
pub const CALL_NUMBER: &str = "号";
pub const CALL_TO: &str = "到";
pub const CALL_WINDOW: &str = "号窗口";

/// The whole call in Chinese, as it is read out: "请 A012 号 到 3 号窗口".
pub fn call_zh(number: &str, window: u16) -> String {
    format!("{CALL_PLEASE} {number} {CALL_NUMBER} {CALL_TO} {window} {CALL_WINDOW}")
}

pub fn call_en(number: &str, window: u16) -> String {
    format!("Number {number}, please go to window {window}")
}

/// "3号窗口" for a window with no name of its own.
pub fn window_zh(window: u16) -> String {
    format!("{window}号窗口")
}

pub fn window_en(window: u16) -> String {
    format!("Window {window}")
}

pub fn waiting_zh(count: u32) -> String {
    format!("等候 {count} 人")
}

pub fn waiting_en(count: u32) -> String {
    format!("{count} waiting")
}

pub fn estimate_zh(minutes: u32) -> String {
    format!("预计等待约 {minutes} 分钟")
}

pub fn estimate_en(minutes: u32) -> String {
    match minutes {
        1 => "about 1 minute".to_owned(),
        _ => format!("about {minutes} minutes"),
    }
}

pub fn window_waiting_zh(count: u32) -> String {
    format!("本窗口等候 {count} 人")
}

pub fn window_waiting_en(count: u32) -> String {
    format!("{count} waiting for this window")
}

pub fn no_such_window_zh(window: u16) -> String {
    format!("本大厅没有 {window} 号窗口")
}

pub fn no_such_window_en(window: u16) -> String {
    format!("This hall has no window {window}")
}

const WEEKDAYS_ZH: [&str; 7] = [
    "星期一",
    "星期二",
    "星期三",
    "星期四",
    "星期五",
    "星期六",
    "星期日",
];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// "11月23日 星期一" for a date, Monday being weekday 1.
pub fn date_zh(month: i8, day: i8, weekday_from_monday: i8) -> String {
    let weekday = WEEKDAYS_ZH[(weekday_from_monday.clamp(1, 7) - 1) as usize];
    format!("{month}月{day}日 {weekday}")
}

pub fn date_en(month: i8, day: i8, weekday_from_monday: i8) -> String {
    let weekday = WEEKDAYS_EN[(weekday_from_monday.clamp(1, 7) - 1) as usize];
    let month = MONTHS_EN[(month.clamp(1, 12) - 1) as usize];
    format!("{weekday} {day} {month}")
}

/// When the hall next opens, from the hall view: `12月7日 星期一 08:30` and
/// `Mon 7 Dec 08:30`; `None` if the view has none.
pub fn next_opening(next: Option<&jiaohao_wire::Opening>) -> Option<(String, String)> {
    let next = next?;
    let mut parts = next.date.split('-').map(|p| p.parse::<i8>().ok());
    let (_, month, day) = (parts.next()?, parts.next()??, parts.next()??);
    let weekday = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .iter()
    .position(|w| *w == next.weekday)? as i8
        + 1;
    Some((
        format!("{} {}", date_zh(month, day, weekday), next.time),
        format!("{} {}", date_en(month, day, weekday), next.time),
    ))
}

/// Every date word, for the font-coverage test.
pub fn all_date_words() -> Vec<String> {
    (1..=7)
        .flat_map(|weekday| [date_zh(12, 31, weekday), date_en(12, 31, weekday)])
        .chain((1..=12).map(|month| date_en(month, 1, 1)))
        .collect()
}
