//! The screens: the header with its language and elderly buttons, the welcome screen's
//! service buttons, the service step, the ticket, the idle notices, and the panels they share.
//! Each draws from the app's state and pushes [`Action`]s; none waits on anything.

use egui::{Color32, Id, Rect, Ui, Vec2, pos2, vec2};
use jiaohao_ui::theme;
use jiaohao_wire::{IssuedTicket, ServiceStatus};

use super::{
    Action, HubState, KioskApp, NOTICE_PAGE_SECONDS, PrintState, Screen, Shown, local_time,
};
use crate::draw::{self, Kind};
use crate::icons;
use crate::text::{Lang, Words, fill};

/// What a keypad screen asks for and how its submit button reads.
struct Keypad {
    prompt: String,
    submit: &'static str,
    /// Booking codes too (8 characters, the letter page), not only ID numbers.
    codes: bool,
    /// What the screen says while its request is on the way.
    busy: Option<&'static str>,
}

/// A line of a paged list.
struct Entry {
    text: String,
    size: f32,
    bold: bool,
    color: Color32,
    gap: f32,
}

impl KioskApp {
    /// The blue header: the hall's name (or the step's back/done button) and the language and
    /// elderly buttons, one tap away on every screen.
    pub(super) fn header(&mut self, ui: &mut Ui, full: Rect) -> Rect {
        let s = self.scale();
        let words = self.words();
        let height = 120.0 * s;
        let rect = Rect::from_min_size(full.min, vec2(full.width(), height));
        ui.painter().rect_filled(rect, 0.0, theme::POLICE_BLUE);
        let pad = 24.0 * s.min(1.2);
        let button_h = height - 24.0;
        let size = 38.0 * s;

        // Right: language, then elderly mode.
        let mut right = rect.right() - pad;
        let mut header_button =
            |ui: &mut Ui, app: &mut KioskApp, id: &str, label: &str, on: bool| {
                let laid = draw::galley(ui, label, size, true, theme::PAPER, f32::INFINITY);
                let width = (laid.size().x + 56.0 * s).max(200.0 * s);
                let button = Rect::from_min_size(
                    pos2(right - width, rect.top() + 12.0),
                    vec2(width, button_h),
                );
                right = button.left() - pad * 0.75;
                let (response, ink) = draw::button(
                    ui,
                    Id::unique(id),
                    button,
                    label,
                    Kind::OnBlue { on },
                    app.elderly,
                );
                let laid = draw::galley(ui, label, size, true, ink.text, f32::INFINITY);
                draw::paint_centred(ui, button, laid, ink.text);
                app.tapped(&response)
            };
        if header_button(ui, self, "language", words.switch_language, false) {
            self.actions.push(Action::Language);
        }
        let elderly_label = if self.elderly {
            words.elderly_off
        } else {
            words.elderly_on
        };
        if header_button(ui, self, "elderly", elderly_label, self.elderly) {
            self.actions.push(Action::Elderly);
        }

        // Left: a back or done button on the steps, then the hall's name.
        let mut left = rect.left() + pad;
        let step_button = match &self.screen {
            Screen::Service(_) if !self.pending => Some((words.back, Action::Back)),
            Screen::CheckIn if !self.checking => Some((words.back, Action::Back)),
            Screen::Identify { .. } if !self.pending => Some((words.back, Action::Back)),
            Screen::Ticket(_) => Some((words.done, Action::Done)),
            _ => None,
        };
        if let Some((label, action)) = step_button {
            let laid = draw::galley(ui, label, size, true, theme::PAPER, f32::INFINITY);
            let width = (laid.size().x + 64.0 * s).max(200.0 * s);
            let button = Rect::from_min_size(pos2(left, rect.top() + 12.0), vec2(width, button_h));
            let (response, ink) = draw::button(
                ui,
                Id::unique("step"),
                button,
                label,
                Kind::OnBlue { on: true },
                self.elderly,
            );
            let laid = draw::galley(ui, label, size, true, ink.text, f32::INFINITY);
            draw::paint_centred(ui, button, laid, ink.text);
            if self.tapped(&response) {
                self.actions.push(action);
            }
            left = button.right() + pad;
            if let Screen::Ticket(shown) = &self.screen {
                let elapsed = self.now - shown.since.max(self.last_touch);
                let remaining = (self.options.return_after.as_secs_f64() - elapsed)
                    .ceil()
                    .max(0.0);
                let text = fill(words.returning, &[("n", &remaining)]);
                let laid = draw::galley(ui, &text, 28.0 * s, false, theme::PAPER, 360.0 * s);
                let pos = pos2(left, rect.center().y - laid.size().y / 2.0);
                left += laid.size().x + pad;
                draw::put(ui, pos, laid);
            }
        }
        if let Some(hall) = &self.hall {
            let name = self.lang.pick(&hall.name_zh, &hall.name_en).to_owned();
            let space = vec2((right - left - pad).max(0.0), height - 16.0);
            if space.x > 120.0 {
                let laid = draw::fit_line(ui, &name, 40.0 * s, 24.0, true, theme::PAPER, space.x);
                let pos = pos2(left, rect.center().y - laid.size().y / 2.0);
                draw::put(ui, pos, laid);
            }
        }
        rect
    }

    pub(super) fn welcome(&mut self, ui: &mut Ui, content: Rect, state: HubState) {
        let s = self.scale();
        let words = self.words();
        let ink = self.ink();
        if state != HubState::Ready || self.hall.is_none() {
            // No greeting to choose a service when none can be chosen.
            self.unavailable(ui, content, state);
            return;
        }
        let top = draw::text_line(
            ui,
            content.left(),
            content.top(),
            content.width(),
            words.greeting,
            50.0 * s,
            true,
            ink,
        );
        // The bottom bar: 预约签到, for citizens who booked.
        let bar = 120.0 * s;
        let check_in = Rect::from_min_max(
            pos2(content.right() - 520.0 * s, content.bottom() - bar),
            content.max,
        );
        let (response, ink_check_in) = draw::button(
            ui,
            Id::unique("check-in"),
            check_in,
            words.check_in,
            Kind::Outline,
            self.elderly,
        );
        let laid = draw::galley(
            ui,
            words.check_in,
            44.0 * s,
            true,
            ink_check_in.text,
            check_in.width(),
        );
        draw::paint_centred(ui, check_in, laid, ink_check_in.text);
        if self.tapped(&response) {
            self.actions.push(Action::CheckIn);
        }
        // Beside it, the rule of order in one line (two where the language needs them).
        let rule = Rect::from_min_max(
            pos2(content.left(), content.bottom() - bar),
            pos2(check_in.left() - 32.0 * s, content.bottom()),
        );
        let laid = draw::fit(
            ui,
            words.order_rule,
            30.0 * s,
            22.0,
            false,
            self.muted(),
            rule.size(),
        );
        draw::put(
            ui,
            pos2(rule.left(), rule.center().y - laid.size().y / 2.0),
            laid,
        );
        let area = Rect::from_min_max(
            pos2(content.left(), top + 24.0 * s),
            pos2(content.right(), content.bottom() - bar - 20.0 * s),
        );
        let services = self
            .hall
            .as_ref()
            .map(|hall| hall.services.clone())
            .unwrap_or_default();
        if services.is_empty() {
            self.message_card(ui, area, words.no_services, None);
            return;
        }
        // A closed day by the hall calendar: say so, and when the hall opens, not the hours.
        if let Some(hall) = self.hall.as_ref().filter(|hall| !hall.open_today) {
            let closed = match hall.closed_reason.as_deref() {
                Some("holiday") => words.hall_closed_holiday,
                _ => words.hall_closed,
            };
            let next = match &hall.next_opening {
                Some(next) => fill(
                    words.next_opening,
                    &[
                        (
                            "date",
                            &crate::text::opening_date(self.lang(), &next.date, &next.weekday),
                        ),
                        ("time", &next.time),
                    ],
                ),
                None => words.next_opening_unknown.to_owned(),
            };
            self.message_card(ui, area, &format!("{closed}\n{next}"), None);
            return;
        }
        let gap = 28.0 * s;
        let (mut columns, rows) = if self.elderly { (2, 2) } else { (3, 2) };
        let min_width = 460.0 * s;
        while columns > 1
            && (area.width() - gap * (columns - 1) as f32) / (columns as f32) < min_width
        {
            columns -= 1;
        }
        let per_page = columns * rows;
        let pages = services.len().div_ceil(per_page);
        self.service_page = self.service_page.min(pages - 1);
        let mut grid = area;
        if pages > 1 {
            let bar = 104.0 * s;
            grid.max.y -= bar + gap;
            let bar_rect = Rect::from_min_max(pos2(area.left(), area.bottom() - bar), area.max);
            if let Some(step) = self.pager_bar(ui, bar_rect, "services", self.service_page, pages) {
                self.actions.push(Action::ServicePage(step));
            }
        }
        let shown: Vec<&ServiceStatus> = services
            .iter()
            .skip(self.service_page * per_page)
            .take(per_page)
            .collect();
        let width = (grid.width() - gap * (columns - 1) as f32) / columns as f32;
        let height = ((grid.height() - gap * (rows - 1) as f32) / rows as f32).min(420.0 * s);
        for (i, service) in shown.into_iter().enumerate() {
            let (row, column) = (i / columns, i % columns);
            let rect = Rect::from_min_size(
                pos2(
                    grid.left() + column as f32 * (width + gap),
                    grid.top() + row as f32 * (height + gap),
                ),
                vec2(width, height),
            );
            if self.service_button(ui, rect, service) {
                self.actions.push(Action::Open(service.def.code.clone()));
            }
        }
    }

    /// 预约签到: the keypad for an ID number or a booking code, and 签到.
    pub(super) fn check_in_screen(&mut self, ui: &mut Ui, content: Rect) {
        let words = self.words();
        let pad = Keypad {
            prompt: words.check_in_prompt.to_owned(),
            submit: words.check_in_submit,
            codes: true,
            busy: self.checking.then_some(words.checking_in),
        };
        self.keypad_screen(ui, content, &pad);
    }

    /// The ID number of a service with `identity = "required"`: read from the card or typed
    /// on the keypad, then 取号 (or 绿色通道取号) takes the ticket with it.
    pub(super) fn identify_screen(
        &mut self,
        ui: &mut Ui,
        content: Rect,
        state: HubState,
        service: &str,
        green: bool,
    ) {
        let words = self.words();
        if state == HubState::Paused {
            self.unavailable(ui, content, state);
            return;
        }
        let name = self
            .hall
            .as_ref()
            .and_then(|hall| hall.services.iter().find(|sv| sv.def.code == service))
            .map(|sv| self.lang.pick(&sv.def.name_zh, &sv.def.name_en).to_owned())
            .unwrap_or_else(|| service.to_owned());
        let pad = Keypad {
            prompt: fill(words.identity_prompt, &[("service", &name)]),
            submit: if green {
                words.take_green
            } else {
                words.take_ticket
            },
            codes: false,
            busy: self.pending.then_some(words.issuing),
        };
        self.keypad_screen(ui, content, &pad);
    }

    /// A keypad screen: the prompt, the entry (masked but its last four), a keypad of digits,
    /// X and delete with keys of at least 120×120 px, and the submit button; a keyboard-mode
    /// card reader types here too.
    fn keypad_screen(&mut self, ui: &mut Ui, content: Rect, pad: &Keypad) {
        let s = self.scale();
        let words = self.words();
        let ink = self.ink();
        let letters = pad.codes && self.letters;
        let top = draw::text_line(
            ui,
            content.left(),
            content.top(),
            content.width(),
            &pad.prompt,
            40.0 * s,
            true,
            ink,
        );
        let top = if self.reader_unplugged {
            draw::text_line(
                ui,
                content.left(),
                top + 8.0 * s,
                content.width(),
                words.reader_unplugged,
                30.0 * s,
                false,
                self.muted(),
            )
        } else {
            top
        };
        let count = self.entry.chars().count();
        let shown: String = self
            .entry
            .chars()
            .enumerate()
            .map(|(i, c)| if i + 4 < count { '*' } else { c })
            .collect();
        let entry_rect = Rect::from_min_size(
            pos2(content.left(), top + 20.0 * s),
            vec2(content.width().min(900.0 * s), 96.0 * s),
        );
        draw::card(ui, entry_rect, theme::POLICE_BLUE, 3.0);
        let laid = draw::galley(ui, &shown, 64.0 * s, true, ink, entry_rect.width());
        draw::paint_centred(ui, entry_rect, laid, ink);
        ui.interact(
            entry_rect,
            Id::unique("check-in-entry"),
            egui::Sense::hover(),
        )
        .widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::TextInput, true, format!("entry {shown}"))
        });
        // What went wrong (or that the request is on its way): beside the entry where there
        // is room, so the keys below never shrink for it; else below.
        let message = match (&self.keypad_error, pad.busy) {
            (Some(error), _) => Some((error.clone(), true, draw::WARNING_TEXT)),
            (None, Some(busy)) => Some((busy.to_owned(), false, self.muted())),
            (None, None) => None,
        };
        let beside = content.right() - entry_rect.right() - 28.0 * s;
        let mut y = entry_rect.bottom() + 20.0 * s;
        if let Some((text, bold, color)) = message {
            if beside >= 400.0 {
                let laid = draw::fit(
                    ui,
                    &text,
                    34.0 * s,
                    24.0,
                    bold,
                    color,
                    vec2(beside, entry_rect.height()),
                );
                let pos = pos2(
                    entry_rect.right() + 28.0 * s,
                    entry_rect.center().y - laid.size().y / 2.0,
                );
                draw::put(ui, pos, laid);
            } else {
                y = draw::text_line(
                    ui,
                    content.left(),
                    y,
                    content.width(),
                    &text,
                    34.0 * s,
                    bold,
                    color,
                ) + 16.0 * s;
            }
        }
        // The keypad: its digit page (1–9, X, 0, delete) or its letter page (the 24 letters of
        // booking codes: no I or O), 签到 beside it, and under 签到 the switch between pages
        // (and on the letter page, delete). Keys stay large, larger in the elderly mode, as
        // far as six columns beside 签到 and four rows fit the screen.
        let gap = 16.0 * s.min(1.2);
        let columns = if letters { 6.0 } else { 3.0 };
        let fits_across = (content.width() - 300.0 - gap - columns * gap) / columns;
        let fits_down = (content.bottom() - y - 3.0 * gap) / 4.0;
        let key = (140.0 * s)
            .max(120.0)
            .min(fits_across.min(fits_down).max(80.0));
        let digits = [
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
            "7",
            "8",
            "9",
            "X",
            "0",
            words.key_delete,
        ];
        const LETTERS: [&str; 24] = [
            "A", "B", "C", "D", "E", "F", "G", "H", "J", "K", "L", "M", "N", "P", "Q", "R", "S",
            "T", "U", "V", "W", "X", "Y", "Z",
        ];
        let keys: &[&str] = if letters { &LETTERS } else { &digits };
        let per_row = columns as usize;
        for (index, label) in keys.iter().enumerate() {
            let (row, column) = (index / per_row, index % per_row);
            let rect = Rect::from_min_size(
                pos2(
                    content.left() + column as f32 * (key + gap),
                    y + row as f32 * (key + gap),
                ),
                vec2(key, key),
            );
            let (response, ink_key) = draw::button(
                ui,
                Id::unique(("key", letters, index)),
                rect,
                label,
                Kind::Outline,
                self.elderly,
            );
            let size = if label.len() == 1 { 60.0 } else { 34.0 } * s;
            let laid = draw::galley(ui, label, size, true, ink_key.text, rect.width());
            draw::paint_centred(ui, rect, laid, ink_key.text);
            if self.tapped_key(&response) {
                self.actions.push(match label.chars().next() {
                    Some(c) if label.len() == 1 => Action::Key(c),
                    _ => Action::DeleteKey,
                });
            }
        }
        let side = content.left() + columns * (key + gap) + gap;
        let side_width = (content.right() - side).clamp(300.0, 560.0 * s);
        // Under 签到: the page switch, and on the letter page delete below it.
        let mut extra: Vec<(&str, Action)> = Vec::new();
        if pad.codes {
            extra.push(if letters {
                (words.key_digits, Action::Letters(false))
            } else {
                (words.key_letters, Action::Letters(true))
            });
        }
        if letters {
            extra.push((words.key_delete, Action::DeleteKey));
        }
        for (row, (label, action)) in extra.into_iter().enumerate() {
            let rect = Rect::from_min_size(
                pos2(side, y + (2 + row) as f32 * (key + gap)),
                vec2(side_width, key),
            );
            let (response, ink_key) = draw::button(
                ui,
                Id::unique(("keypad-side", row)),
                rect,
                label,
                Kind::Outline,
                self.elderly,
            );
            let laid = draw::galley(ui, label, 40.0 * s, true, ink_key.text, rect.width());
            draw::paint_centred(ui, rect, laid, ink_key.text);
            if self.tapped_key(&response) {
                self.actions.push(action);
            }
        }
        let submit = Rect::from_min_size(pos2(side, y), vec2(side_width, 2.0 * key + gap));
        let ready = (count == 18 || (pad.codes && count == 8)) && pad.busy.is_none();
        let kind = if ready { Kind::Primary } else { Kind::Closed };
        let (response, ink_submit) = draw::button(
            ui,
            Id::unique("keypad-submit"),
            submit,
            pad.submit,
            kind,
            self.elderly,
        );
        let laid = draw::fit(
            ui,
            pad.submit,
            60.0 * s,
            36.0,
            true,
            ink_submit.text,
            submit.shrink(12.0).size(),
        );
        draw::paint_centred(ui, submit, laid, ink_submit.text);
        if ready && self.tapped(&response) {
            self.actions.push(Action::Submit);
        }
    }

    /// One service's button: icon, name, waiting and estimated wait; greyed with the reason and
    /// the hours when closed. Returns whether it was tapped.
    fn service_button(&mut self, ui: &mut Ui, rect: Rect, service: &ServiceStatus) -> bool {
        let s = self.scale();
        let words = self.words();
        let name = self
            .lang
            .pick(&service.def.name_zh, &service.def.name_en)
            .to_owned();
        let kind = if service.available {
            Kind::Outline
        } else {
            Kind::Closed
        };
        let id = Id::unique(("service", &service.def.code));
        let (response, ink) = draw::button(ui, id, rect, &name, kind, self.elderly);
        let inner = rect.shrink(24.0 * s.min(1.2));
        let circle_fill = if service.available {
            draw::ICON_BACKGROUND
        } else {
            Color32::from_rgb(0xDD, 0xE1, 0xE7)
        };
        let icon = |ui: &Ui, circle: Rect| {
            let radius = circle.width() / 2.0;
            ui.painter()
                .circle_filled(circle.center(), radius, circle_fill);
            icons::paint(
                ui.painter(),
                &service.def.code,
                circle.shrink(radius * 0.4),
                ink.icon,
            );
        };
        // The figures: waiting and the estimated wait; or why it is closed, and its hours.
        let mut lines: Vec<(String, bool, Color32)> = Vec::new();
        if service.available {
            lines.push((
                fill(words.waiting, &[("n", &service.waiting)]),
                false,
                ink.detail,
            ));
            lines.push((
                wait_text(words, service.estimated_wait_min),
                false,
                ink.detail,
            ));
        } else {
            lines.push((
                closed_reason(words, service).to_owned(),
                true,
                draw::WARNING_TEXT,
            ));
            if let Some([from, to]) = &service.def.hours {
                lines.push((
                    fill(words.hours, &[("from", from), ("to", to)]),
                    false,
                    ink.text,
                ));
            }
        }
        let detail_size = 32.0 * s;

        if inner.width() > inner.height() * 3.0 {
            // A wide, low button (the elderly mode's): the figures on one line below the name,
            // so neither has to shrink.
            let icon_side = (inner.height() * 0.8).min(120.0 * s);
            icon(
                ui,
                Rect::from_center_size(
                    pos2(inner.left() + icon_side / 2.0, inner.center().y),
                    Vec2::splat(icon_side),
                ),
            );
            let text_left = inner.left() + icon_side + 26.0 * s;
            let text_width = inner.right() - text_left;
            let joined = lines
                .iter()
                .map(|(text, _, _)| text.as_str())
                .collect::<Vec<_>>()
                .join(if self.lang == Lang::Zh { "，" } else { " · " });
            let (_, bold, color) = lines[0];
            let detail = draw::fit_line(
                ui,
                &joined,
                detail_size,
                detail_size * 0.85,
                bold,
                color,
                text_width,
            );
            let name_laid = draw::fit(
                ui,
                &name,
                60.0 * s,
                40.0,
                true,
                ink.text,
                vec2(
                    text_width,
                    (inner.height() - detail.size().y - 8.0).max(40.0),
                ),
            );
            let top = inner.center().y - (name_laid.size().y + 8.0 + detail.size().y) / 2.0;
            let painter = ui.painter();
            let detail_top = top + name_laid.size().y + 8.0;
            painter.galley(pos2(text_left, top), name_laid, ink.text);
            painter.galley(pos2(text_left, detail_top), detail, color);
        } else {
            let icon_side = (inner.height() * 0.62).min(124.0 * s);
            let circle = Rect::from_center_size(
                pos2(inner.left() + icon_side / 2.0, inner.center().y),
                Vec2::splat(icon_side),
            );
            icon(ui, circle);
            let text_left = circle.right() + 26.0 * s;
            let text_width = (inner.right() - text_left).max(40.0);
            // Shrink the whole block together until it fits the button.
            let mut k = 1.0;
            let (name_laid, laid_lines) = loop {
                let name_laid = draw::fit(
                    ui,
                    &name,
                    60.0 * s * k,
                    40.0,
                    true,
                    ink.text,
                    vec2(text_width, 2.6 * 60.0 * s * k),
                );
                let laid_lines: Vec<_> = lines
                    .iter()
                    .map(|(text, bold, color)| {
                        let size = if *bold {
                            detail_size * 1.06
                        } else {
                            detail_size
                        };
                        draw::galley(ui, text, (size * k).max(24.0), *bold, *color, text_width)
                    })
                    .collect();
                let total = name_laid.size().y
                    + 10.0 * s
                    + laid_lines.iter().map(|l| l.size().y).sum::<f32>();
                if total <= inner.height() || k <= 0.7 {
                    break (name_laid, laid_lines);
                }
                k -= 0.1;
            };
            let total =
                name_laid.size().y + 10.0 * s + laid_lines.iter().map(|l| l.size().y).sum::<f32>();
            let mut y = inner.center().y - total / 2.0;
            let painter = ui.painter();
            painter.galley(pos2(text_left, y), name_laid.clone(), ink.text);
            y += name_laid.size().y + 10.0 * s;
            for laid in laid_lines {
                let height = laid.size().y;
                painter.galley(pos2(text_left, y), laid, ink.detail);
                y += height;
            }
        }
        service.available && self.tapped(&response)
    }

    /// The service step: confirm the service and choose a normal or green-channel ticket; the
    /// required documents beside.
    pub(super) fn service_step(&mut self, ui: &mut Ui, content: Rect, state: HubState, code: &str) {
        let s = self.scale();
        let words = self.words();
        let (ink, muted) = (self.ink(), self.muted());
        let Some(service) = self
            .hall
            .as_ref()
            .and_then(|hall| hall.services.iter().find(|sv| sv.def.code == code))
            .cloned()
        else {
            self.message_card(ui, content, words.error_service_changed, None);
            return;
        };
        let gap = 32.0 * s.min(1.2);
        let left_w = (content.width() - gap) * if self.elderly { 0.52 } else { 0.5 };
        let left = Rect::from_min_size(content.min, vec2(left_w, content.height()));
        let right = Rect::from_min_max(pos2(left.right() + gap, content.top()), content.max);

        // The service: icon, name, waiting and wait.
        let icon_side = 110.0 * s;
        let circle = Rect::from_min_size(left.min, vec2(icon_side, icon_side));
        ui.painter()
            .circle_filled(circle.center(), icon_side / 2.0, draw::ICON_BACKGROUND);
        icons::paint(
            ui.painter(),
            code,
            circle.shrink(icon_side * 0.2),
            theme::POLICE_BLUE,
        );
        let text_left = circle.right() + 24.0 * s;
        let text_w = left.right() - text_left;
        let name = self.lang.pick(&service.def.name_zh, &service.def.name_en);
        let laid = draw::fit(ui, name, 64.0 * s, 36.0, true, ink, vec2(text_w, 130.0 * s));
        let mut y = draw::put(ui, pos2(text_left, left.top()), laid).bottom();
        let detail = if service.available {
            format!(
                "{}，{}",
                fill(words.waiting, &[("n", &service.waiting)]),
                wait_text(words, service.estimated_wait_min)
            )
        } else {
            closed_reason(words, &service).to_owned()
        };
        let color = if service.available {
            muted
        } else {
            draw::WARNING_TEXT
        };
        y = draw::text_line(
            ui,
            text_left,
            y + 4.0,
            text_w,
            &detail,
            32.0 * s,
            false,
            color,
        );
        if service.def.identity.as_deref() == Some("required") {
            y = draw::text_line(
                ui,
                text_left,
                y + 8.0 * s,
                text_w,
                words.identity_needed,
                32.0 * s,
                true,
                theme::POLICE_BLUE,
            );
        }
        let actions_top = y.max(circle.bottom()) + gap;
        let area = Rect::from_min_max(pos2(left.left(), actions_top), left.max);

        if state != HubState::Ready {
            self.unavailable(ui, area, state);
        } else if let Some(problem) = self.problem {
            let message = problem.words(words);
            self.message_card(ui, area, message, Some(words.dismiss));
        } else if self.pending {
            self.message_card(ui, area, words.issuing, None);
        } else if !service.available {
            let message = match service.unavailable_reason.as_deref() {
                Some("daily_cap_reached") => words.error_cap,
                Some("not_open") => words.error_not_open,
                _ => words.error_disabled,
            };
            self.message_card(ui, area, message, Some(words.dismiss));
        } else {
            let note_h = 56.0 * s;
            let button_h = ((area.height() - gap - note_h) / 2.0).min(230.0 * s);
            let take = Rect::from_min_size(area.min, vec2(area.width(), button_h));
            let (response, ink_take) = draw::button(
                ui,
                Id::unique("take"),
                take,
                words.take_ticket,
                Kind::Primary,
                self.elderly,
            );
            let laid = draw::galley(
                ui,
                words.take_ticket,
                64.0 * s,
                true,
                ink_take.text,
                take.width(),
            );
            draw::paint_centred(ui, take, laid, ink_take.text);
            if self.tapped(&response) {
                self.actions.push(Action::Take { green: false });
            }
            let green = Rect::from_min_size(pos2(area.left(), take.bottom() + gap), take.size());
            let (response, ink_green) = draw::button(
                ui,
                Id::unique("take-green"),
                green,
                words.take_green,
                Kind::Outline,
                self.elderly,
            );
            let title = draw::galley(
                ui,
                words.take_green,
                54.0 * s,
                true,
                ink_green.text,
                green.width(),
            );
            let who = draw::galley(
                ui,
                words.green_who,
                30.0 * s,
                false,
                ink_green.detail,
                green.width() - 40.0,
            );
            let total = title.size().y + 8.0 + who.size().y;
            let top = green.center().y - total / 2.0;
            let painter = ui.painter();
            painter.galley(
                pos2(green.center().x - title.size().x / 2.0, top),
                title.clone(),
                ink_green.text,
            );
            painter.galley(
                pos2(
                    green.center().x - who.size().x / 2.0,
                    top + title.size().y + 8.0,
                ),
                who,
                ink_green.detail,
            );
            if self.tapped(&response) {
                self.actions.push(Action::Take { green: true });
            }
            draw::text_centred(
                ui,
                area.left(),
                green.bottom() + 12.0,
                area.width(),
                words.green_check,
                28.0 * s,
                false,
                muted,
            );
        }

        let documents = documents_of_service(&service, self.lang);
        let fee = self
            .lang
            .pick(&service.def.fee_note_zh, &service.def.fee_note_en);
        self.documents_panel(ui, right, documents, fee);
    }

    /// The ticket: the number huge, the service, people ahead and the wait, the QR code, the
    /// printer's state and the required documents.
    pub(super) fn ticket(&mut self, ui: &mut Ui, content: Rect, shown: &Shown) {
        let s = self.scale();
        let words = self.words();
        let (ink, muted) = (self.ink(), self.muted());
        let ticket = &shown.ticket;
        let gap = 36.0 * s.min(1.2);
        let documents = documents_of(ticket, self.lang).to_vec();
        let fee = self
            .lang
            .pick(&ticket.fee_note_zh, &ticket.fee_note_en)
            .to_owned();

        if self.elderly && self.ticket_documents {
            // The elderly mode shows fewer things at once: the documents have their own view.
            let bar = 110.0 * s;
            let panel = Rect::from_min_max(
                content.min,
                pos2(content.right(), content.bottom() - bar - gap),
            );
            self.documents_panel(ui, panel, &documents, &fee);
            let back = Rect::from_min_size(
                pos2(content.left(), content.bottom() - bar),
                vec2(460.0 * s, bar),
            );
            let (response, ink) = draw::button(
                ui,
                Id::unique("ticket-back"),
                back,
                words.back_to_ticket,
                Kind::Primary,
                true,
            );
            let laid = draw::fit(
                ui,
                words.back_to_ticket,
                44.0 * s,
                28.0,
                true,
                ink.text,
                back.shrink(12.0).size(),
            );
            draw::paint_centred(ui, back, laid, ink.text);
            if self.tapped(&response) {
                self.actions.push(Action::TicketDocuments(false));
            }
            return;
        }

        let service_name = self
            .lang
            .pick(&ticket.service_name_zh, &ticket.service_name_en)
            .to_owned();
        let ahead = if ticket.ahead == 0 {
            words.ahead_none.to_owned()
        } else {
            fill(words.ahead, &[("n", &ticket.ahead)])
        };
        let wait = wait_text(words, ticket.estimated_wait_min);

        // Columns: the number and its facts | the code | the documents; in the elderly mode the
        // documents are one tap away instead.
        let (number_col, code_col, documents_col) = if self.elderly {
            let half = (content.width() - gap) / 2.0;
            (
                Rect::from_min_size(content.min, vec2(half, content.height())),
                Rect::from_min_max(
                    pos2(content.left() + half + gap, content.top()),
                    content.max,
                ),
                None,
            )
        } else {
            let left_w = content.width() * 0.36;
            let mid_w = content.width() * 0.25;
            let number = Rect::from_min_size(content.min, vec2(left_w, content.height()));
            let code = Rect::from_min_size(
                pos2(number.right() + gap, content.top()),
                vec2(mid_w, content.height()),
            );
            let documents =
                Rect::from_min_max(pos2(code.right() + gap, content.top()), content.max);
            (number, code, Some(documents))
        };

        let (left, width) = (number_col.left(), number_col.width());
        let mut y = draw::text_line(
            ui,
            left,
            number_col.top(),
            width,
            words.your_number,
            40.0 * s,
            false,
            muted,
        );
        let number = draw::ticket_number(
            ui,
            Id::unique("ticket-number"),
            pos2(left, y + 12.0 * s),
            width,
            &ticket.number,
            260.0 * s,
            theme::POLICE_BLUE,
        );
        y = number.bottom() + 20.0 * s;
        y = draw::text_line(ui, left, y, width, &service_name, 54.0 * s, true, ink) + 8.0 * s;
        if ticket.green_channel {
            let laid = draw::galley(ui, words.green_mark, 32.0 * s, true, theme::PAPER, width);
            let badge = Rect::from_min_size(pos2(left, y), laid.size() + vec2(36.0, 16.0) * s);
            ui.painter().rect_filled(badge, 10.0, theme::POLICE_BLUE);
            draw::put(ui, badge.min + vec2(18.0, 8.0) * s, laid);
            y = badge.bottom() + 10.0 * s;
        }
        if ticket.reprint {
            let laid = draw::galley(ui, words.reprint_mark, 32.0 * s, true, theme::PAPER, width);
            let badge = Rect::from_min_size(pos2(left, y), laid.size() + vec2(36.0, 16.0) * s);
            ui.painter().rect_filled(badge, 10.0, theme::POLICE_BLUE);
            draw::put(ui, badge.min + vec2(18.0, 8.0) * s, laid);
            y = badge.bottom() + 10.0 * s;
            y = draw::text_line(ui, left, y, width, words.reprint_note, 32.0 * s, true, ink)
                + 6.0 * s;
        }
        if let Some(booked) = &shown.booking {
            let mark = booked.mark(self.lang);
            let laid = draw::galley(ui, &mark, 32.0 * s, true, theme::PAPER, width);
            let badge = Rect::from_min_size(pos2(left, y), laid.size() + vec2(36.0, 16.0) * s);
            ui.painter().rect_filled(badge, 10.0, theme::POLICE_BLUE);
            draw::put(ui, badge.min + vec2(18.0, 8.0) * s, laid);
            y = badge.bottom() + 10.0 * s;
        }
        y = draw::text_line(ui, left, y + 6.0 * s, width, &ahead, 44.0 * s, true, ink);
        y = draw::text_line(ui, left, y + 4.0 * s, width, &wait, 44.0 * s, false, ink);
        if !self.elderly {
            let issued = fill(words.issued_at, &[("time", &local_time(&ticket.issued_at))]);
            y = draw::text_line(ui, left, y + 12.0, width, &issued, 30.0, false, muted);
        }
        draw::text_line(
            ui,
            left,
            y + 24.0,
            width,
            words.thanks,
            36.0 * s,
            true,
            theme::POLICE_BLUE,
        );

        // The QR code with its caption and the printer's state: below the code, or beside it in
        // the elderly mode.
        let (code_rect, caption_left, caption_top, caption_w) = if self.elderly {
            let side = (code_col.width() * 0.46).min(400.0);
            let code = Rect::from_min_size(code_col.min, vec2(side, side));
            (
                code,
                code.right() + 28.0,
                code_col.top(),
                code_col.right() - code.right() - 28.0,
            )
        } else {
            let side = code_col.width().min(400.0);
            let code = Rect::from_min_size(
                pos2(code_col.center().x - side / 2.0, code_col.top()),
                vec2(side, side),
            );
            (
                code,
                code_col.left(),
                code.bottom() + 16.0,
                code_col.width(),
            )
        };
        if let Some(qr) = &shown.qr {
            let used = qr.paint(ui.painter(), code_rect, ui.ctx().pixels_per_point());
            ui.painter().rect_stroke(
                used,
                0.0,
                egui::Stroke::new(1.0, draw::CARD_BORDER),
                egui::StrokeKind::Outside,
            );
            draw::name_region(
                ui,
                Id::unique("ticket-qr"),
                used,
                egui::Role::Image,
                &format!("{} {}", words.qr_label, shown.url),
            );
        }
        let centred = !self.elderly;
        let line = |ui: &mut Ui, y: f32, text: &str, size: f32, bold: bool, color: Color32| {
            let laid = draw::fit_line(ui, text, size, size * 0.85, bold, color, caption_w);
            let x = if centred {
                caption_left + (caption_w - laid.size().x) / 2.0
            } else {
                caption_left
            };
            draw::put(ui, pos2(x, y), laid).bottom()
        };
        let mut y = line(ui, caption_top, words.scan, 30.0 * s, false, ink);
        let (status, color) = match &shown.print {
            PrintState::NoPrinter => (words.no_printer.to_owned(), ink),
            PrintState::Printing => (words.printing.to_owned(), muted),
            PrintState::Printed => (words.printed.to_owned(), ink),
            PrintState::Failed(_) => (format!("⚠ {}", words.print_fault), draw::WARNING_TEXT),
        };
        y = line(ui, y + 20.0 * s, &status, 36.0 * s, true, color);

        match documents_col {
            Some(rect) => self.documents_panel(ui, rect, &documents, &fee),
            None => {
                let top = (y.max(code_rect.bottom()) + gap).min(code_col.bottom() - 120.0 * s);
                let height = (code_col.bottom() - top).min(170.0 * s);
                let button =
                    Rect::from_min_size(pos2(code_col.left(), top), vec2(code_col.width(), height));
                let label = fill(words.documents_button, &[("n", &documents.len())]);
                let (response, ink) = draw::button(
                    ui,
                    Id::unique("ticket-documents"),
                    button,
                    &label,
                    Kind::Outline,
                    true,
                );
                let laid = draw::fit(
                    ui,
                    &label,
                    44.0 * s,
                    28.0,
                    true,
                    ink.text,
                    button.shrink(16.0).size(),
                );
                draw::paint_centred(ui, button, laid, ink.text);
                if self.tapped(&response) {
                    self.actions.push(Action::TicketDocuments(true));
                }
            }
        }
    }

    /// The idle screen: the hall's notices, page by page; a touch anywhere starts.
    pub(super) fn idle(&mut self, ui: &mut Ui, content: Rect) {
        let s = self.scale();
        let words = self.words();
        let ink = self.ink();
        let response = ui.interact(content, Id::unique("idle"), egui::Sense::click());
        response.widget_info(|| {
            egui::WidgetInfo::labeled(egui::Role::Button, true, words.touch_to_start)
        });
        let band_h = 170.0 * s;
        let band = Rect::from_min_size(content.min, vec2(content.width(), band_h));
        draw::card(ui, band, theme::POLICE_BLUE, 4.0);
        let laid = draw::galley(
            ui,
            words.touch_to_start,
            72.0 * s,
            true,
            theme::POLICE_BLUE,
            band.width() - 40.0,
        );
        draw::paint_centred(ui, band, laid, theme::POLICE_BLUE);

        let panel = Rect::from_min_max(pos2(content.left(), band.bottom() + 32.0 * s), content.max);
        draw::card(ui, panel, draw::CARD_BORDER, 2.0);
        let inner = panel.shrink(32.0 * s);
        let mut y = draw::text_line(
            ui,
            inner.left(),
            inner.top(),
            inner.width(),
            words.notices,
            44.0 * s,
            true,
            theme::POLICE_BLUE,
        );
        let notices: Vec<String> = self
            .hall
            .as_ref()
            .map(|hall| match self.lang {
                Lang::En if !hall.notices_en.is_empty() => hall.notices_en.clone(),
                _ => hall.notices_zh.clone(),
            })
            .unwrap_or_default();
        let entries: Vec<Entry> = notices
            .iter()
            .map(|notice| Entry {
                text: format!("● {notice}"),
                size: 34.0 * s,
                bold: false,
                color: ink,
                gap: 14.0 * s,
            })
            .collect();
        y += 16.0 * s;
        let list = Rect::from_min_max(pos2(inner.left(), y), inner.max);
        let pages = page_breaks(ui, &entries, list.width(), list.height());
        if self.now - self.notice_since >= NOTICE_PAGE_SECONDS {
            self.notice_page += 1;
            self.notice_since = self.now;
        }
        if self.notice_page + 1 >= pages.len() {
            self.notice_page %= pages.len().saturating_sub(1).max(1);
        }
        let start = pages.get(self.notice_page).copied().unwrap_or(0);
        let end = pages
            .get(self.notice_page + 1)
            .copied()
            .unwrap_or(entries.len());
        draw_entries(ui, &entries[start..end], list);
        if self.tapped(&response) {
            self.actions.push(Action::Wake);
        }
    }

    /// The required documents and the fee note, in a card, page by page when they do not fit.
    fn documents_panel(&mut self, ui: &mut Ui, rect: Rect, documents: &[String], fee: &str) {
        let s = self.scale();
        let words = self.words();
        let (ink, muted) = (self.ink(), self.muted());
        draw::card(ui, rect, draw::CARD_BORDER, 2.0);
        let inner = rect.shrink(28.0 * s.min(1.2));
        let mut entries = vec![Entry {
            text: words.documents.to_owned(),
            size: 36.0 * s,
            bold: true,
            color: theme::POLICE_BLUE,
            gap: 0.0,
        }];
        if documents.is_empty() {
            entries.push(Entry {
                text: words.no_documents.to_owned(),
                size: 30.0 * s,
                bold: false,
                color: ink,
                gap: 12.0 * s,
            });
        }
        for (i, document) in documents.iter().enumerate() {
            entries.push(Entry {
                text: format!("{}. {document}", i + 1),
                size: 30.0 * s,
                bold: false,
                color: ink,
                gap: 12.0 * s,
            });
        }
        if !fee.trim().is_empty() {
            entries.push(Entry {
                text: words.fee.to_owned(),
                size: 32.0 * s,
                bold: true,
                color: theme::POLICE_BLUE,
                gap: 24.0 * s,
            });
            entries.push(Entry {
                text: fee.to_owned(),
                size: 28.0 * s,
                bold: false,
                color: muted,
                gap: 8.0 * s,
            });
        }
        let all = page_breaks(ui, &entries, inner.width(), inner.height());
        let mut list = inner;
        let pages = if all.len() > 2 {
            // More than one page: keep room for the page buttons and lay out again.
            let bar = 100.0 * s;
            list.max.y -= bar + 16.0;
            let pages = page_breaks(ui, &entries, list.width(), list.height());
            let count = pages.len() - 1;
            self.documents.page = self.documents.page.min(count - 1);
            let bar_rect = Rect::from_min_max(pos2(inner.left(), inner.bottom() - bar), inner.max);
            if let Some(step) =
                self.pager_bar(ui, bar_rect, "documents", self.documents.page, count)
            {
                self.actions.push(Action::DocumentsPage(step));
            }
            pages
        } else {
            self.documents.page = 0;
            all
        };
        let start = pages[self.documents.page];
        let end = pages[self.documents.page + 1];
        draw_entries(ui, &entries[start..end], list);
    }

    /// Previous and next buttons with "page n of m" between; returns the step tapped.
    fn pager_bar(
        &mut self,
        ui: &mut Ui,
        rect: Rect,
        id: &str,
        page: usize,
        pages: usize,
    ) -> Option<isize> {
        let s = self.scale();
        let words = self.words();
        let width = (260.0 * s).min(rect.width() / 3.0).max(120.0);
        let mut step = None;
        let previous = Rect::from_min_size(rect.min, vec2(width, rect.height()));
        let next = Rect::from_min_size(
            pos2(rect.right() - width, rect.top()),
            vec2(width, rect.height()),
        );
        for (button, label, delta, enabled) in [
            (previous, words.previous_page, -1, page > 0),
            (next, words.next_page, 1, page + 1 < pages),
        ] {
            if !enabled {
                continue;
            }
            let (response, ink) = draw::button(
                ui,
                Id::unique((id, delta)),
                button,
                label,
                Kind::Outline,
                self.elderly,
            );
            let laid = draw::fit(
                ui,
                label,
                34.0 * s,
                24.0,
                true,
                ink.text,
                button.shrink(8.0).size(),
            );
            draw::paint_centred(ui, button, laid, ink.text);
            if self.tapped(&response) {
                step = Some(delta);
            }
        }
        let text = fill(words.page, &[("n", &(page + 1)), ("of", &pages)]);
        let middle = Rect::from_min_max(
            pos2(previous.right(), rect.top()),
            pos2(next.left(), rect.bottom()),
        );
        let laid = draw::galley(ui, &text, 28.0 * s, false, self.muted(), middle.width());
        let pos = middle.center() - laid.size() / 2.0;
        draw::put(ui, pos, laid);
        step
    }

    /// Ticketing paused (or still connecting), in words, in place of the buttons.
    fn unavailable(&mut self, ui: &mut Ui, area: Rect, state: HubState) {
        let s = self.scale();
        let words = self.words();
        if state == HubState::Paused || (state == HubState::Ready && self.hall.is_none()) {
            let card = Rect::from_center_size(
                area.center(),
                vec2(area.width().min(1300.0 * s), area.height().min(520.0 * s)),
            );
            draw::card(ui, card, theme::WARNING_RED, 5.0);
            let inner = card.shrink(40.0 * s);
            let sign = draw::galley(ui, "⚠", 110.0 * s, true, theme::WARNING_RED, inner.width());
            let title = draw::galley(
                ui,
                words.paused,
                64.0 * s,
                true,
                draw::WARNING_TEXT,
                inner.width(),
            );
            let detail = draw::galley(
                ui,
                words.paused_detail,
                34.0 * s,
                false,
                self.ink(),
                inner.width(),
            );
            let total = sign.size().y + title.size().y + detail.size().y + 40.0 * s;
            let mut y = inner.center().y - total / 2.0;
            for laid in [sign, title, detail] {
                let height = laid.size().y;
                let x = inner.center().x - laid.size().x / 2.0;
                draw::put(ui, pos2(x, y), laid);
                y += height + 20.0 * s;
            }
        } else {
            let laid = draw::galley(
                ui,
                words.connecting,
                44.0 * s,
                false,
                self.muted(),
                area.width(),
            );
            draw::put(ui, area.center() - laid.size() / 2.0, laid);
        }
    }

    /// A message in a card, with an optional button that goes back to the welcome screen.
    fn message_card(&mut self, ui: &mut Ui, area: Rect, message: &str, button: Option<&str>) {
        let s = self.scale();
        let height = area.height().min(460.0 * s);
        let card = Rect::from_min_size(area.min, vec2(area.width(), height));
        draw::card(ui, card, theme::POLICE_BLUE, 4.0);
        let inner = card.shrink(36.0 * s);
        let button_h = if button.is_some() { 110.0 * s } else { 0.0 };
        let text_area =
            Rect::from_min_max(inner.min, pos2(inner.right(), inner.bottom() - button_h));
        let laid = draw::fit(
            ui,
            message,
            48.0 * s,
            30.0,
            true,
            self.ink(),
            text_area.size(),
        );
        let pos = pos2(
            text_area.center().x - laid.size().x / 2.0,
            text_area.center().y - laid.size().y / 2.0,
        );
        draw::put(ui, pos, laid);
        if let Some(label) = button {
            let rect = Rect::from_center_size(
                pos2(inner.center().x, inner.bottom() - button_h / 2.0),
                vec2(320.0 * s, button_h),
            );
            let (response, ink) = draw::button(
                ui,
                Id::unique("dismiss"),
                rect,
                label,
                Kind::Primary,
                self.elderly,
            );
            let laid = draw::galley(ui, label, 44.0 * s, true, ink.text, rect.width());
            draw::paint_centred(ui, rect, laid, ink.text);
            if self.tapped(&response) {
                self.actions.push(Action::Back);
            }
        }
    }
}

/// Where each page of `entries` starts when laid out in a box of `width` × `height`; the last
/// element is `entries.len()`. Every page holds at least one entry.
fn page_breaks(ui: &Ui, entries: &[Entry], width: f32, height: f32) -> Vec<usize> {
    let mut breaks = vec![0];
    let mut used = 0.0;
    let mut on_page = 0;
    for (i, entry) in entries.iter().enumerate() {
        let laid = draw::galley(ui, &entry.text, entry.size, entry.bold, entry.color, width);
        let need = laid.size().y + if on_page == 0 { 0.0 } else { entry.gap };
        if on_page > 0 && used + need > height {
            breaks.push(i);
            used = laid.size().y;
            on_page = 1;
        } else {
            used += need;
            on_page += 1;
        }
    }
    breaks.push(entries.len());
    breaks
}

fn draw_entries(ui: &mut Ui, entries: &[Entry], rect: Rect) {
    let mut y = rect.top();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            y += entry.gap;
        }
        let laid = draw::galley(
            ui,
            &entry.text,
            entry.size,
            entry.bold,
            entry.color,
            rect.width(),
        );
        y = draw::put(ui, pos2(rect.left(), y), laid).bottom();
    }
}

fn wait_text(words: &Words, minutes: Option<u32>) -> String {
    match minutes {
        None => words.wait_unknown.to_owned(),
        Some(0) => words.wait_none.to_owned(),
        Some(n) => fill(words.wait_about, &[("n", &n)]),
    }
}

fn closed_reason(words: &'static Words, service: &ServiceStatus) -> &'static str {
    match service.unavailable_reason.as_deref() {
        Some("disabled") => words.closed_disabled,
        Some("not_open") => words.closed_not_open,
        Some("hall_closed") => words.hall_closed,
        Some("daily_cap_reached") => words.closed_cap,
        _ => words.closed_other,
    }
}

pub(super) fn documents_of(ticket: &IssuedTicket, lang: Lang) -> &[String] {
    match lang {
        Lang::En if !ticket.documents_en.is_empty() => &ticket.documents_en,
        _ => &ticket.documents,
    }
}

fn documents_of_service(service: &ServiceStatus, lang: Lang) -> &[String] {
    match lang {
        Lang::En if !service.def.documents_en.is_empty() => &service.def.documents_en,
        _ => &service.def.documents_zh,
    }
}
